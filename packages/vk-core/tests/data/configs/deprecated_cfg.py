_base_ = "expected_cfg.py"
_deprecation_ = dict(expected="expected_cfg.py", reference="https://github.com/open-mmlab/mmcv/pull/1275")
