"""MultiImageMixDataset: runs mixing transforms (Mosaic, MixUp) that need other samples of the dataset."""

from __future__ import annotations

import copy

from ..registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class MultiImageMixDataset:
    """Wrap ``dataset`` (whose own pipeline loads images and annotations) and apply ``pipeline`` on top.

    Before a transform with ``get_indexes(dataset)`` runs, the samples it asks for are loaded through the inner
    dataset and passed as ``results['mix_results']``. ``skip_type_keys`` names transform types to skip (e.g. to
    turn Mosaic off for the last epochs).
    """

    def __init__(self, dataset, pipeline, skip_type_keys=None, max_refetch: int = 15, lazy_init: bool = False):
        from vk_core.registry import DefaultScope

        if isinstance(dataset, dict):
            with DefaultScope.using("vk_det"):
                dataset = DATASETS.build(dataset)
        self.dataset = dataset
        self.pipeline = []
        self.pipeline_types = []
        for i, step in enumerate(pipeline):
            if isinstance(step, dict):
                with DefaultScope.using("vk_det"):
                    self.pipeline_types.append(step["type"] if isinstance(step["type"], str) else step["type"].__name__)
                    step = TRANSFORMS.build(step)
            elif not callable(step):
                raise TypeError(f"MultiImageMixDataset: pipeline[{i}] must be a dict or a callable, got {step!r}")
            else:
                self.pipeline_types.append(type(step).__name__)
            self.pipeline.append(step)
        self.skip_type_keys = list(skip_type_keys or [])
        self.max_refetch = max_refetch

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        if hasattr(self.dataset, "full_init"):
            self.dataset.full_init()

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def __len__(self) -> int:
        return len(self.dataset)

    def update_skip_type_keys(self, skip_type_keys) -> None:
        self.skip_type_keys = list(skip_type_keys)

    def __getitem__(self, idx: int):
        results = copy.deepcopy(self.dataset[idx])
        for transform, type_name in zip(self.pipeline, self.pipeline_types):
            if type_name in self.skip_type_keys:
                continue
            for _ in range(self.max_refetch):
                if hasattr(transform, "get_indexes"):
                    indexes = transform.get_indexes(self.dataset)
                    results["mix_results"] = [copy.deepcopy(self.dataset[i]) for i in indexes]
                out = transform(copy.deepcopy(results))
                if out is not None:
                    results = out
                    break
            else:
                raise RuntimeError(
                    f"MultiImageMixDataset[{idx}]: {type_name} returned None {self.max_refetch} times in a row"
                )
            results.pop("mix_results", None)
        return results
