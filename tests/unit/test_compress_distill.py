"""Distillation units: KD loss, the transfer set (augmentation labelled by the teacher), baselines."""

from __future__ import annotations

import pytest

from tensor_agent.errors import InputError

torch = pytest.importorskip("torch")


def _images(b=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 1, 8, 8, generator=g)  # (B, C, H, W)


def test_kd_loss_is_t2_scaled_kl_plus_hard_ce():
    import torch.nn.functional as F

    from tensor_agent.tools.compress.distill import kd_loss

    s, t, y = torch.randn(6, 10), torch.randn(6, 10), torch.randint(0, 10, (6,))
    for temp in (1.0, 2.0, 4.0):
        kl = F.kl_div(F.log_softmax(s / temp, -1), F.softmax(t / temp, -1), reduction="batchmean")
        assert torch.allclose(kd_loss(s, t, y, temperature=temp, alpha=1.0), kl * temp * temp, atol=1e-5)
    assert torch.allclose(kd_loss(s, t, y, alpha=0.0), F.cross_entropy(s, y))
    assert float(kd_loss(t, t, y, alpha=1.0)) == pytest.approx(0.0, abs=1e-6)


def test_augment_is_reproducible_and_shifts_and_mixes():
    from tensor_agent.tools.compress.distill import TransferSet, augment

    x = _images()
    ts = TransferSet(shift=1, mixup=0.4)
    a1, p1, l1 = augment((x,), ts, torch.Generator().manual_seed(3))
    a2, p2, l2 = augment((x,), ts, torch.Generator().manual_seed(3))
    assert a1[0].shape == x.shape and torch.equal(a1[0], a2[0]) and torch.equal(p1, p2) and l1 == l2
    assert 0.5 <= l1 <= 1.0 and not torch.equal(a1[0], x)
    # shift only: every image is a translation by at most one pixel (zero fill), so pixel mass can only drop
    s, perm, lam = augment((x,), TransferSet(shift=1, mixup=0.0), torch.Generator().manual_seed(1))
    assert lam == 1.0 and torch.equal(perm, torch.arange(8))
    assert (s[0].sum(dim=(1, 2, 3)) <= x.sum(dim=(1, 2, 3)) + 1e-5).all()
    assert any(torch.equal(s[0][0], torch.roll(torch.nn.functional.pad(x[0], (1, 1, 1, 1)), (dy, dx), (1, 2))
                           [:, 1:9, 1:9]) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def test_transfer_set_validation_and_scope():
    from tensor_agent.tools.compress.distill import TransferSet

    with pytest.raises(InputError, match="distill_shift"):
        TransferSet(shift=-1)
    with pytest.raises(InputError, match="distill_mixup"):
        TransferSet(mixup=-0.1)
    assert not TransferSet(shift=0, mixup=0.0).active
    assert TransferSet().applies_to((_images(),))
    assert not TransferSet().applies_to((torch.zeros(4, 16, dtype=torch.long),))  # token ids: left alone


class _Memorizer(torch.nn.Module):
    """A 'teacher' that knows the exact training images only: perfect on them, class 0 on anything else."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x.flatten(1), y

    def forward(self, x):
        d = torch.cdist(x.flatten(1), self.x)  # (B, N)
        dist, ix = d.min(dim=1)
        label = torch.where(dist < 1e-6, self.y[ix], torch.zeros_like(ix))
        return torch.nn.functional.one_hot(label, 10).float() * 10.0  # (B, 10)


def test_transfer_set_check_drops_views_the_teacher_cannot_label():
    from tensor_agent.tools.compress.distill import TransferSet, check_transfer_set

    data = _tiny_task()
    (x,), y = data.splits["train"]
    ts, info = check_transfer_set(_Memorizer(x, y), data, TransferSet(shift=1, mixup=0.4))
    assert info["teacher_train_accuracy"] == 1.0 and info["teacher_shifted_accuracy"] < 0.5
    assert ts.shift == 0 and ts.mixup == 0.4 and "dropped" in info

    class Blind(torch.nn.Module):  # shift-invariant (constant) teacher: nothing to drop
        def forward(self, x):
            return torch.zeros(x.shape[0], 10)

    ts, info = check_transfer_set(Blind(), data, TransferSet(shift=1, mixup=0.4))
    assert ts.shift == 1 and "dropped" not in info


def _tiny_task():
    from tensor_agent.tools.compress.data import TaskData, load_task_data

    d = load_task_data("digits")
    (xtr,), ytr = d.splits["train"]
    (xte,), yte = d.splits["test"]
    return TaskData(name="digits", task="classification", num_classes=10,
                    splits={"train": ((xtr[:256],), ytr[:256]), "test": ((xte[:128],), yte[:128])})


def test_distill_trains_student_and_both_baselines():
    from tensor_agent.tools.compress.distill import TransferSet, distill
    from tensor_agent.tools.core.zoo.registry import create_model

    torch.manual_seed(0)
    h = create_model("cnn", variant="tiny", input_spec={"shape": [1, 8, 8]}, num_classes=10)
    data = _tiny_task()
    c = distill(h, data, (data.splits["test"][0][0][:2],), ratio=3.0, epochs=2, seed=0,
                transfer=TransferSet(shift=1, mixup=0.4))
    d = c.details
    assert d["param_ratio"] >= 3 and d["transfer_set"]["mixup"] == 0.4 and d["transfer_set"]["shift"] in (0, 1)
    assert set(d["transfer_set_check"]) >= {"teacher_train_accuracy", "teacher_shifted_accuracy"}
    assert 0.0 <= d["baseline_student_accuracy"] <= 1.0 and 0.0 <= d["baseline_augmented_accuracy"] <= 1.0
    out = c.runner(torch.rand(3, 1, 8, 8))
    assert out.shape == (3, 10)
    off = distill(h, data, (data.splits["test"][0][0][:2],), ratio=3.0, epochs=1, seed=0, baseline=False,
                  transfer=TransferSet(shift=0, mixup=0.0))
    assert off.details["transfer_set"] is None and "baseline_student_accuracy" not in off.details


def test_distill_rejects_bad_alpha():
    from tensor_agent.tools.compress.distill import distill
    from tensor_agent.tools.core.zoo.registry import create_model

    h = create_model("cnn", variant="tiny", input_spec={"shape": [1, 8, 8]}, num_classes=10)
    with pytest.raises(InputError, match="alpha"):
        distill(h, _tiny_task(), (torch.rand(2, 1, 8, 8),), ratio=3.0, alpha=1.5)
