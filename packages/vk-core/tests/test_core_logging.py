import io
import logging
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from vk_core.logging import HistoryBuffer, LogProcessor, MessageHub, VkLogger, print_log


def test_history_buffer_statistics():
    buf = HistoryBuffer()
    buf.update(1)
    buf.update(2)
    assert (buf.min(), buf.max(), buf.mean(), buf.current()) == (1, 2, 1.5, 2)
    assert buf.statistics("mean") == 1.5
    assert buf.mean(1) == 2


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.integers(1, 10))
def test_history_buffer_window_matches_python(values, window):
    buf = HistoryBuffer(max_length=20)
    for v in values:
        buf.update(v)
    kept = values[-20:]
    assert len(buf) == len(kept)
    tail = kept[-window:]
    assert buf.mean(window) == pytest.approx(sum(tail) / len(tail))
    assert buf.max(window) == max(tail)


def test_history_buffer_register_statistics_and_errors():
    @HistoryBuffer.register_statistics
    def weighted_mean(buffer, window):
        logs, counts = buffer.data
        return float((logs[-window:] * counts[-window:]).sum() / counts[-window:].sum())

    buf = HistoryBuffer([1, 3], [1, 3])
    assert buf.statistics("weighted_mean", 2) == pytest.approx((1 + 9) / 4)
    with pytest.raises(KeyError, match="unknown method 'nope'"):
        buf.statistics("nope")
    with pytest.raises(ValueError, match="empty"):
        HistoryBuffer().mean()
    with pytest.raises(TypeError, match="numbers"):
        buf.update("x")


def test_message_hub_scalars_info_and_state_round_trip(tmp_path):
    hub = MessageHub.get_instance("test_logging_hub")
    hub.update_scalars({"a": 1, "b": 2, "c": {"value": 1, "count": 2}})
    assert hub.get_scalar("c").data[1].tolist() == [2.0]
    hub.update_scalar("loss", torch.tensor(0.5))
    hub.update_info("epoch", 3)
    hub.update_info("tmp", object(), resumed=False)
    with pytest.raises(AssertionError, match="resumed"):
        hub.update_scalar("loss", 3, resumed=False)
    state = hub.state_dict()
    assert "tmp" not in state["runtime_info"]
    path = tmp_path / "hub.pth"
    torch.save(state, path)
    loaded = torch.load(path, weights_only=True)
    other = MessageHub.get_instance("test_logging_hub_2")
    other.load_state_dict(loaded)
    assert other.get_scalar("loss").current() == 0.5
    assert other.get_info("epoch") == 3
    with pytest.raises(KeyError, match="no scalar 'missing'"):
        other.get_scalar("missing")


def test_vk_logger_instances_and_file(tmp_path):
    log_file = tmp_path / "run.log"
    logger = VkLogger.get_instance("vk_logger_test", logger_name="Logger", log_file=str(log_file))
    assert logger.name == "Logger" and logger.instance_name == "vk_logger_test"
    assert logger is not logging.getLogger("Logger")
    assert VkLogger.get_current_instance() is logger
    logger.info("hello file")
    print_log("via name", logger="vk_logger_test")
    print_log("silent", logger="silent")
    logger.close()
    text = log_file.read_text()
    assert "hello file" in text and "via name" in text and "silent" not in text
    with pytest.raises(ValueError, match="no VkLogger named 'nobody'"):
        print_log("x", logger="nobody")
    with pytest.raises(ValueError, match="unknown log level"):
        VkLogger.get_instance("bad_level", log_level="LOUD")


def _fake_runner(hub, epoch=0, it=49, loader_len=500, max_iters=1000):
    return SimpleNamespace(
        message_hub=hub,
        epoch=epoch,
        iter=it,
        max_iters=max_iters,
        train_dataloader=range(loader_len),
        val_dataloader=range(10),
        test_dataloader=range(10),
        device=torch.device("cpu"),
    )


def test_log_processor_train_line_format():
    hub = MessageHub.get_instance("test_log_line")
    for _ in range(10):
        hub.update_scalar("train/lr", 0.01)
        hub.update_scalar("train/time", 0.1234)
        hub.update_scalar("train/data_time", 0.01)
        hub.update_scalar("train/loss", 0.5)
        hub.update_scalar("train/loss_cls", 0.3)
    hub.update_info("eta", 62.7)
    tag, line = LogProcessor().get_log_after_iter(_fake_runner(hub), 49, "train")
    assert line == (
        "Epoch(train) [1][ 50/500]  lr: 1.0000e-02  eta: 0:01:02  time: 0.1234  data_time: 0.0100  "
        "loss: 0.5000  loss_cls: 0.3000"
    )
    assert tag["epoch"] == 1 and tag["iter"] == 50 and tag["lr"] == 0.01
    _, line = LogProcessor(by_epoch=False).get_log_after_iter(_fake_runner(hub), 49, "train")
    assert line.startswith("Iter(train) [  50/1000]  lr: 1.0000e-02  eta: 0:01:02")


def test_log_processor_windows_and_custom_cfg():
    hub = MessageHub.get_instance("test_log_windows")
    for v in range(1, 21):
        hub.update_scalar("train/loss", float(v))
    proc = LogProcessor(
        window_size=10,
        custom_cfg=[
            dict(data_src="loss", method_name="mean", window_size="global", log_name="loss_global"),
            dict(data_src="loss", method_name="max", window_size="epoch"),
        ],
    )
    tag, _ = proc.get_log_after_iter(_fake_runner(hub), 4, "train")
    assert tag["loss_global"] == pytest.approx(10.5)
    assert tag["loss"] == 20  # max over the 5 iterations of this epoch
    with pytest.raises(AssertionError, match="overwritten twice"):
        LogProcessor(custom_cfg=[dict(data_src="loss", method_name="mean"), dict(data_src="loss", method_name="max")])
    with pytest.raises(ValueError, match="by_epoch=True"):
        LogProcessor(by_epoch=False, window_size="epoch")


def test_log_processor_val_epoch_line():
    hub = MessageHub.get_instance("test_log_val")
    for t in (0.1, 0.3):
        hub.update_scalar("val/time", t)
        hub.update_scalar("val/data_time", 0.01)
    hub.update_scalar("val/accuracy", 90.0)
    tag, line = LogProcessor().get_log_after_epoch(_fake_runner(hub, epoch=1), 1, "val")
    assert line == "Epoch(val) [1][ 2/10]  accuracy: 90.0000  time: 0.2000  data_time: 0.0100"
    assert tag == {"accuracy": 90.0, "time": pytest.approx(0.2), "data_time": 0.01}


def test_print_log_to_stdout(capsys):
    print_log("plain")
    assert capsys.readouterr().out == "plain\n"
    stream = io.StringIO()
    logger = logging.getLogger("vk_test_plain_logger")
    logger.addHandler(logging.StreamHandler(stream))
    logger.setLevel(logging.INFO)
    print_log("to logger", logger=logger)
    assert "to logger" in stream.getvalue()


def test_analyze_logs_train_time_and_plot(tmp_path):
    import json

    from vk_core.cli.analyze_logs import load_json_log, plot_curve, train_time_stats

    records = [
        {"lr": 0.1, "time": 9.0, "loss": 1.0, "epoch": 1, "step": 1},  # first iteration: an outlier
        {"lr": 0.1, "time": 1.0, "loss": 0.8, "epoch": 1, "step": 2},
        {"lr": 0.1, "time": 3.0, "loss": 0.6, "epoch": 1, "step": 3},
        {"lr": 0.1, "time": 5.0, "loss": 0.5, "epoch": 2, "step": 4},
        {"lr": 0.1, "time": 2.0, "loss": 0.4, "epoch": 2, "step": 5},
        {"acc": 50.0, "step": 2},
    ]
    path = tmp_path / "scalars.json"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    stats = train_time_stats(load_json_log(path))
    assert stats["per_epoch"] == {1: 2.0, 2: 2.0}
    assert train_time_stats(records, include_outliers=True)["per_epoch"] == {1: pytest.approx(13 / 3), 2: 3.5}
    out = plot_curve([records], [str(path)], ["loss"], str(tmp_path / "loss.png"))
    assert (tmp_path / "loss.png").stat().st_size > 0 and out.endswith("loss.png")
    plot_curve([records], [str(path)], ["acc"], str(tmp_path / "acc.png"))  # validation records only
    assert (tmp_path / "acc.png").stat().st_size > 0
    with pytest.raises(SystemExit, match="no record has the key 'coco/segm_mAP'"):
        plot_curve([records], [str(path)], ["coco/segm_mAP"], str(tmp_path / "x.png"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r"bad.json:2: not a JSON object"):
        load_json_log(bad)
