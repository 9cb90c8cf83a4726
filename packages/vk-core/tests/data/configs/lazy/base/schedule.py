from torch.optim import SGD

optim_wrapper = dict(optimizer=dict(type=SGD, lr=0.02, momentum=0.9))
max_epochs = 12
_private = "not exported by *"
