_base_ = [
    "../_base_/models/rpn_r50_fpn.py",
    "../_base_/datasets/coco_detection.py",
    "../_base_/schedules/schedule_1x.py",
    "../_base_/default_runtime.py",
]
val_evaluator = dict(metric="proposal_fast")
test_evaluator = val_evaluator

# Proposals are evaluated at 1000 per image; tweak here to record proposals for a two-stage detector.
# test_cfg = dict(rpn=dict(max_per_img=1000))
