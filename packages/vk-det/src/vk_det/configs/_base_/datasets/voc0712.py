# PASCAL VOC 2007+2012 trainval for training (repeated 3 times per epoch), VOC 2007 test for evaluation.
dataset_type = "VOCDataset"
data_root = "data/VOCdevkit/"
backend_args = None

train_pipeline = [
    dict(type="LoadImageFromFile", backend_args=backend_args),
    dict(type="LoadAnnotations", with_bbox=True),
    dict(type="Resize", scale=(1000, 600), keep_ratio=True),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackDetInputs"),
]
test_pipeline = [
    dict(type="LoadImageFromFile", backend_args=backend_args),
    dict(type="Resize", scale=(1000, 600), keep_ratio=True),
    dict(type="LoadAnnotations", with_bbox=True),
    dict(type="PackDetInputs", meta_keys=("img_id", "img_path", "ori_shape", "img_shape", "scale_factor")),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    batch_sampler=dict(type="AspectRatioBatchSampler"),
    dataset=dict(
        type="RepeatDataset",
        times=3,
        dataset=dict(
            type="ConcatDataset",
            # VOC2007 and VOC2012 carry different 'dataset_type' metainfo; it is not compared when concatenating.
            ignore_keys=["dataset_type"],
            datasets=[
                dict(
                    type=dataset_type,
                    data_root=data_root,
                    ann_file="VOC2007/ImageSets/Main/trainval.txt",
                    data_prefix=dict(sub_data_root="VOC2007/"),
                    filter_cfg=dict(filter_empty_gt=True, min_size=32, bbox_min_size=32),
                    pipeline=train_pipeline,
                    backend_args=backend_args,
                ),
                dict(
                    type=dataset_type,
                    data_root=data_root,
                    ann_file="VOC2012/ImageSets/Main/trainval.txt",
                    data_prefix=dict(sub_data_root="VOC2012/"),
                    filter_cfg=dict(filter_empty_gt=True, min_size=32, bbox_min_size=32),
                    pipeline=train_pipeline,
                    backend_args=backend_args,
                ),
            ],
        ),
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file="VOC2007/ImageSets/Main/test.txt",
        data_prefix=dict(sub_data_root="VOC2007/"),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args,
    ),
)
test_dataloader = val_dataloader

# Pascal VOC2007 uses `11points` as its default evaluation mode, VOC2012 uses `area`.
val_evaluator = dict(type="VOCMetric", metric="mAP", eval_mode="11points")
test_evaluator = val_evaluator
