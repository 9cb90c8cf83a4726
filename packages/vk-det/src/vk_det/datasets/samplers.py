"""AspectRatioBatchSampler: batches of images that are all landscape or all portrait (less padding)."""

from __future__ import annotations

from torch.utils.data import BatchSampler, Sampler

from ..registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class AspectRatioBatchSampler(BatchSampler):
    """Wrap ``sampler`` and emit batches whose images share ``width < height``; the leftovers of both groups
    form the last batches unless ``drop_last``."""

    def __init__(self, sampler: Sampler, batch_size: int, drop_last: bool = False):
        if not isinstance(sampler, Sampler):
            raise TypeError(f"sampler must be a torch Sampler, got {type(sampler).__name__}")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self._buckets = [[] for _ in range(2)]

    def __iter__(self):
        dataset = self.sampler.dataset
        buckets = [[], []]
        for idx in self.sampler:
            info = dataset.get_data_info(idx)
            bucket = buckets[0 if info["width"] < info["height"] else 1]
            bucket.append(idx)
            if len(bucket) == self.batch_size:
                yield bucket[:]
                del bucket[:]
        left = buckets[0] + buckets[1]
        while left:
            batch, left = left[: self.batch_size], left[self.batch_size :]
            if len(batch) == self.batch_size or not self.drop_last:
                yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
