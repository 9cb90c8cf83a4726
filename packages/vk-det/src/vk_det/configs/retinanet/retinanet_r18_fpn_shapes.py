# Small CPU config: RetinaNet-R18 trained from scratch on the synthetic shapes dataset (4 classes, 320x320).
# Generate the data first (`make demo` does it), e.g.:
#   python -c "from vk_core.testing import make_shapes_dataset as m; m('data/shapes', splits={'train': 400, 'val': 100})"
# then `vk train vk_det::retinanet/retinanet_r18_fpn_shapes.py`.
_base_ = [
    "../_base_/models/retinanet_r50_fpn.py",
    "../_base_/datasets/shapes_detection.py",
    "../_base_/schedules/shapes_adamw_12e.py",
    "../_base_/default_runtime.py",
]

# No pretrained weights offline: BatchNorm trains (norm_eval=False, nothing frozen) and the narrow head uses
# GroupNorm, which trains stably from scratch at small batch sizes.
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    bbox_head=dict(
        num_classes=4,
        in_channels=128,
        feat_channels=128,
        stacked_convs=2,
        norm_cfg=dict(type="GN", num_groups=32, requires_grad=True),
    ),
    test_cfg=dict(score_thr=0.05, max_per_img=100),
)

val_dataloader = dict(batch_size=8)
test_dataloader = val_dataloader
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=1), visualization=None)
