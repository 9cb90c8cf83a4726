# Faster R-CNN, ResNet-18 + FPN, trained from scratch on CPU on the synthetic shapes dataset
# (vk_core.testing.make_shapes_dataset: 400 train / 100 val images of 320 x 320, 4 classes). Make the data:
#   python -c "from vk_core.testing import make_shapes_dataset as m; m('data/shapes', splits={'train': 400, 'val': 100})"
# then `vk train vk_det::faster_rcnn/faster-rcnn_r18_fpn_shapes.py`.
_base_ = [
    "../_base_/models/faster-rcnn_r50_fpn.py",
    "../_base_/datasets/shapes_detection.py",
    "../_base_/schedules/shapes_adamw_12e.py",
    "../_base_/default_runtime.py",
]

# No pretrained weights offline: BatchNorm trains (norm_eval=False, nothing frozen). Narrower than the COCO
# model wherever the 4-class task allows (128-channel FPN, 256-wide box head, fewer proposals and RoIs).
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    rpn_head=dict(in_channels=128, feat_channels=128),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128),
        bbox_head=dict(in_channels=128, fc_out_channels=256, num_classes=4),
    ),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300), rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)),
)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=1), visualization=None)
