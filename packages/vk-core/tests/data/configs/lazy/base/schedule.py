# Stand-ins from the standard library keep the fixture free of torch: any importable class works as `type`.
from collections import OrderedDict as SGD

optim_wrapper = dict(optimizer=dict(type=SGD, lr=0.02, momentum=0.9))
max_epochs = 12
_private = "not exported by *"
