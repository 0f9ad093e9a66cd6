"""track_experiment decides its action from plan fields and options; names and aliases are validated;
the W&B transaction-log reader handles records split over blocks."""

from __future__ import annotations

import pytest

from tensor_agent.errors import InputError
from tensor_agent.schema import Plan
from tensor_agent.tools.track.registry import check_alias, check_name
from tensor_agent.tools.track.tool import decide


def plan(**kw):
    return Plan(addressed=True, intents=["track"], **kw)


def test_action_from_plan_fields_and_options():
    assert decide(plan(register_name="bc-mlp"), {}) == "register"
    assert decide(plan(), {"register": "x"}) == "register"
    assert decide(plan(trackers=["mlflow", "wandb"]), {}) == "export"
    assert decide(plan(), {"trackers": "wandb"}) == "export"
    assert decide(plan(), {"alias": "champion"}) == "alias"
    assert decide(plan(), {"runs_to_compare": 3}) == "compare"
    assert decide(plan(), {}) == "list"
    assert decide(plan(register_name="x"), {"action": "rollback"}) == "rollback"
    with pytest.raises(InputError):
        decide(plan(), {"action": "explode"})


def test_action_alias_version_from_plan_track_options_override():
    from tensor_agent.schema import TrackSpec
    from tensor_agent.tools.track.tool import track_field

    p = plan(track=TrackSpec(action="alias", alias="champion", version=2))
    assert decide(p, {}) == "alias"
    assert (track_field(p, {}, "alias"), track_field(p, {}, "version")) == ("champion", 2)
    assert track_field(p, {"version": 1}, "version") == 1 and track_field(p, {"alias": "challenger"}, "alias") == "challenger"
    assert decide(p, {"action": "list"}) == "list"
    assert decide(plan(track=TrackSpec(action="rollback", version=1)), {}) == "rollback"
    assert decide(plan(track=TrackSpec(action="archive", version=1)), {}) == "archive"
    assert decide(plan(track=TrackSpec(alias="challenger")), {}) == "alias"  # no action word: the alias decides
    assert decide(plan(track=TrackSpec(runs=3)), {}) == "compare"
    assert track_field(plan(track=TrackSpec(runs=3)), {}, "runs", "runs_to_compare") == 3
    assert decide(plan(register_name="x", track=TrackSpec(action="register", alias="champion")), {}) == "register"
    assert decide(plan(trackers=["neptune"]), {}) == "export"


def test_same_fields_different_text_same_action():
    a = decide(plan(register_name="m1", text="@TENSOR register it as m1"), {})
    b = decide(plan(register_name="m1", text="@TENSOR log to wandb and compare runs"), {})
    assert a == b == "register"


@pytest.mark.parametrize("bad", ["", "a/b", "x..y", "-lead", "a" * 101, "white space"])
def test_bad_names_are_input_errors(bad):
    with pytest.raises(InputError):
        check_name(bad)


def test_alias_rules():
    assert check_alias("champion") == "champion"
    with pytest.raises(InputError, match="reserved"):
        check_alias("v2")


def test_transaction_log_reader_joins_records_across_blocks():
    import zlib

    from tensor_agent.tools.core.wandb_export import _BLOCK, _HEADER, _chunks

    def rec(kind: int, payload: bytes) -> bytes:
        return zlib.crc32(payload).to_bytes(4, "little") + len(payload).to_bytes(2, "little") + bytes([kind]) + payload

    big = bytes(range(256)) * 200  # 51200 bytes: must be split over two blocks
    out = bytearray(b":W&B\xe1\xbe\x00")
    out += rec(1, b"first")
    first = _BLOCK - len(out) - _HEADER
    out += rec(2, big[:first])
    out += rec(4, big[first:])
    assert list(_chunks(bytes(out))) == [b"first", big]


def test_future_runs_go_to_wandb_when_the_plan_option_or_thread_says_so(tmp_path):
    from tensor_agent.config import Settings
    from tensor_agent.tools.core.context import ToolContext
    from tensor_agent.tools.core.wandb_export import wanted

    ctx = ToolContext(settings=Settings.from_env(tmp_path))
    assert not wanted(plan(), ctx)
    assert wanted(plan(trackers=["mlflow", "wandb"]), ctx)
    ctx.options = {"trackers": "mlflow,wandb"}
    assert wanted(plan(), ctx)
    ctx.options, ctx.artifacts = {}, {"trackers": ["mlflow", "wandb"]}
    assert wanted(plan(), ctx)
