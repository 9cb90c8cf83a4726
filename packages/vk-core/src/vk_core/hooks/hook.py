"""The ``Hook`` base class (22 hook points) and hook priorities."""

from __future__ import annotations

from enum import Enum


class Priority(Enum):
    """Lower runs first."""

    HIGHEST = 0
    VERY_HIGH = 10
    HIGH = 30
    ABOVE_NORMAL = 40
    NORMAL = 50
    BELOW_NORMAL = 60
    LOW = 70
    VERY_LOW = 90
    LOWEST = 100


def get_priority(priority) -> int:
    """An int in [0, 100], a ``Priority`` or its name ('NORMAL') -> int."""
    if isinstance(priority, bool):
        raise TypeError(f"priority must be an int, a str or a Priority, got {priority!r}")
    if isinstance(priority, int):
        if not 0 <= priority <= 100:
            raise ValueError(f"priority must be between 0 and 100, got {priority}")
        return priority
    if isinstance(priority, Priority):
        return priority.value
    if isinstance(priority, str):
        try:
            return Priority[priority.upper()].value
        except KeyError:
            raise ValueError(f"unknown priority {priority!r}; known: {[p.name for p in Priority]}") from None
    raise TypeError(f"priority must be an int, a str or a Priority, got {type(priority).__name__}")


DATA_BATCH = dict | tuple | list | None


def built_train_loop(runner):
    """The runner's train loop if it has been built (training is under way), else None.

    Hooks use this instead of ``runner.train_loop``, which would build the loop from its config during a
    ``runner.val()`` or ``runner.test()`` call.
    """
    getter = getattr(runner, "_built_train_loop", None)
    if getter is not None:
        return getter()
    return getattr(runner, "train_loop", None)


HOOK_POINTS = (
    "before_run",
    "after_run",
    "before_train",
    "after_train",
    "before_train_epoch",
    "after_train_epoch",
    "before_train_iter",
    "after_train_iter",
    "before_val",
    "after_val",
    "before_val_epoch",
    "after_val_epoch",
    "before_val_iter",
    "after_val_iter",
    "before_test",
    "after_test",
    "before_test_epoch",
    "after_test_epoch",
    "before_test_iter",
    "after_test_iter",
    "before_save_checkpoint",
    "after_load_checkpoint",
)


class Hook:
    """Override any of the 22 hook points; every default does nothing.

    Epoch/iter points funnel into ``_before_epoch``/``_after_epoch``/``_before_iter``/``_after_iter`` with a
    ``mode`` argument, so a hook acting alike in train, val and test overrides one method.
    """

    priority = "NORMAL"

    def before_run(self, runner) -> None:
        pass

    def after_run(self, runner) -> None:
        pass

    def before_train(self, runner) -> None:
        pass

    def after_train(self, runner) -> None:
        pass

    def before_val(self, runner) -> None:
        pass

    def after_val(self, runner) -> None:
        pass

    def before_test(self, runner) -> None:
        pass

    def after_test(self, runner) -> None:
        pass

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        pass

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        pass

    def before_train_epoch(self, runner) -> None:
        self._before_epoch(runner, mode="train")

    def before_val_epoch(self, runner) -> None:
        self._before_epoch(runner, mode="val")

    def before_test_epoch(self, runner) -> None:
        self._before_epoch(runner, mode="test")

    def after_train_epoch(self, runner) -> None:
        self._after_epoch(runner, mode="train")

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        self._after_epoch(runner, mode="val")

    def after_test_epoch(self, runner, metrics: dict | None = None) -> None:
        self._after_epoch(runner, mode="test")

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._before_iter(runner, batch_idx=batch_idx, data_batch=data_batch, mode="train")

    def before_val_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._before_iter(runner, batch_idx=batch_idx, data_batch=data_batch, mode="val")

    def before_test_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._before_iter(runner, batch_idx=batch_idx, data_batch=data_batch, mode="test")

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._after_iter(runner, batch_idx=batch_idx, data_batch=data_batch, outputs=outputs, mode="train")

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._after_iter(runner, batch_idx=batch_idx, data_batch=data_batch, outputs=outputs, mode="val")

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._after_iter(runner, batch_idx=batch_idx, data_batch=data_batch, outputs=outputs, mode="test")

    def _before_epoch(self, runner, mode: str = "train") -> None:
        pass

    def _after_epoch(self, runner, mode: str = "train") -> None:
        pass

    def _before_iter(self, runner, batch_idx: int, data_batch=None, mode: str = "train") -> None:
        pass

    def _after_iter(self, runner, batch_idx: int, data_batch=None, outputs=None, mode: str = "train") -> None:
        pass

    # ---- helpers ----------------------------------------------------------------------------------------------
    def every_n_epochs(self, runner, n: int, start: int = 0) -> bool:
        done = runner.epoch + 1 - start
        return n > 0 and done >= 0 and done % n == 0

    def every_n_inner_iters(self, batch_idx: int, n: int) -> bool:
        return n > 0 and (batch_idx + 1) % n == 0

    def every_n_train_iters(self, runner, n: int, start: int = 0) -> bool:
        done = runner.iter + 1 - start
        return n > 0 and done >= 0 and done % n == 0

    def end_of_epoch(self, dataloader, batch_idx: int) -> bool:
        return batch_idx + 1 == len(dataloader)

    def is_last_train_epoch(self, runner) -> bool:
        return runner.epoch + 1 == runner.max_epochs

    def is_last_train_iter(self, runner) -> bool:
        return runner.iter + 1 == runner.max_iters

    def get_triggered_stages(self) -> list[str]:
        """The hook points this hook overrides (directly or through the ``_before_epoch``-style funnels)."""
        funnels = {
            "_before_epoch": ("before_train_epoch", "before_val_epoch", "before_test_epoch"),
            "_after_epoch": ("after_train_epoch", "after_val_epoch", "after_test_epoch"),
            "_before_iter": ("before_train_iter", "before_val_iter", "before_test_iter"),
            "_after_iter": ("after_train_iter", "after_val_iter", "after_test_iter"),
        }
        stages = set()
        cls = type(self)
        for point in HOOK_POINTS:
            if getattr(cls, point) is not getattr(Hook, point):
                stages.add(point)
        for funnel, points in funnels.items():
            if getattr(cls, funnel) is not getattr(Hook, funnel):
                stages.update(points)
        return [p for p in HOOK_POINTS if p in stages]
