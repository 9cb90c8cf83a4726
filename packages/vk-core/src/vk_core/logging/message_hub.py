"""The run's shared blackboard: scalars (with history) and runtime info, resumable through checkpoints."""

from __future__ import annotations

from collections import OrderedDict

from vk_core.logging.history_buffer import HistoryBuffer
from vk_core.utils.manager import ManagerMixin

_PRIMITIVES = (int, float, str, bool, type(None))


def _to_primitive(value, key: str):
    """Converts a runtime-info value to what ``torch.load(weights_only=True)`` accepts, or raises naming ``key``."""
    if isinstance(value, _PRIMITIVES):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a tensor is kept as is
        return value.detach().cpu()
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy array / scalar
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return type(value)(_to_primitive(v, key) for v in value)
    if isinstance(value, dict):
        return {k: _to_primitive(v, f"{key}.{k}") for k, v in value.items()}
    raise TypeError(
        f"MessageHub.state_dict: runtime info {key!r} holds a {type(value).__name__}, which a checkpoint cannot "
        "store; update it with resumed=False or store primitives"
    )


class MessageHub(ManagerMixin):
    """Holds ``log_scalars`` (name -> HistoryBuffer) and ``runtime_info`` (name -> value).

    Keys updated with ``resumed=True`` (the default) go into ``state_dict()`` and come back on resume.
    ``get_scalar`` and ``log_scalars`` return references, not copies: callers must not mutate them.
    """

    def __init__(self, name: str = "vk_core", log_scalars=None, runtime_info=None, resumed_keys=None):
        super().__init__(name)
        self._log_scalars: OrderedDict[str, HistoryBuffer] = OrderedDict(log_scalars or {})
        self._runtime_info: OrderedDict[str, object] = OrderedDict(runtime_info or {})
        self._resumed_keys: OrderedDict[str, bool] = OrderedDict(resumed_keys or {})

    @classmethod
    def get_current_instance(cls) -> MessageHub:
        # a hub always exists, so components used outside a runner can still log
        if not cls._instance_dict:
            cls.get_instance("vk_core")
        return super().get_current_instance()

    def _set_resumed(self, key: str, resumed: bool) -> None:
        if key in self._resumed_keys and self._resumed_keys[key] != resumed:
            raise AssertionError(
                f"MessageHub: key {key!r} was first updated with resumed={self._resumed_keys[key]} and now with "
                f"resumed={resumed}; a key is either resumable or not"
            )
        self._resumed_keys[key] = resumed

    def update_scalar(self, key: str, value, count=1, resumed: bool = True) -> None:
        self._set_resumed(key, resumed)
        buffer = self._log_scalars.get(key)
        if buffer is None:
            buffer = self._log_scalars[key] = HistoryBuffer()
        try:
            buffer.update(value, count)
        except TypeError as exc:
            raise TypeError(f"MessageHub.update_scalar({key!r}): {exc}") from None

    def update_scalars(self, log_dict: dict, resumed: bool = True) -> None:
        """``value`` may be a number, a one-element tensor, or ``dict(value=v, count=n)``."""
        if not isinstance(log_dict, dict):
            raise TypeError(f"MessageHub.update_scalars: expected a dict, got {type(log_dict).__name__}")
        for key, value in log_dict.items():
            if isinstance(value, dict):
                if "value" not in value:
                    raise KeyError(f"MessageHub.update_scalars: {key!r} is a dict without a 'value' key: {value}")
                self.update_scalar(key, value["value"], value.get("count", 1), resumed)
            else:
                self.update_scalar(key, value, 1, resumed)

    def update_info(self, key: str, value, resumed: bool = True) -> None:
        self._set_resumed(key, resumed)
        self._runtime_info[key] = value

    def update_info_dict(self, info_dict: dict, resumed: bool = True) -> None:
        for key, value in info_dict.items():
            self.update_info(key, value, resumed)

    def pop_info(self, key: str, default=None):
        return self._runtime_info.pop(key, default)

    @property
    def log_scalars(self) -> OrderedDict:
        return self._log_scalars

    @property
    def runtime_info(self) -> OrderedDict:
        return self._runtime_info

    def get_scalar(self, key: str) -> HistoryBuffer:
        if key not in self._log_scalars:
            raise KeyError(f"MessageHub {self.instance_name!r} has no scalar {key!r}; known: {list(self._log_scalars)}")
        return self._log_scalars[key]

    def get_info(self, key: str, default=None):
        return self._runtime_info.get(key, default)

    def state_dict(self) -> dict:
        """Only primitives and tensors, so a checkpoint holding it loads with ``weights_only=True``."""
        scalars = {k: v.state_dict() for k, v in self._log_scalars.items() if self._resumed_keys.get(k, True)}
        info = {k: _to_primitive(v, k) for k, v in self._runtime_info.items() if self._resumed_keys.get(k, True)}
        return {"log_scalars": scalars, "runtime_info": info, "resumed_keys": dict(self._resumed_keys)}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or "log_scalars" not in state:
            raise KeyError("MessageHub.load_state_dict: expected a dict with 'log_scalars' and 'runtime_info'")
        for key, buf in state["log_scalars"].items():
            self._log_scalars[key] = HistoryBuffer.from_state_dict(buf)
        for key, value in state.get("runtime_info", {}).items():
            self._runtime_info[key] = value
        self._resumed_keys.update(state.get("resumed_keys", {}))

    def __repr__(self) -> str:
        return f"MessageHub({self.instance_name!r}, scalars={list(self._log_scalars)}, info={list(self._runtime_info)})"
