model = dict(type="Net", backbone=dict(type="ResNet", depth=50, norm=dict(type="BN")), head=dict(num_classes=80))
