"""The image-digest policy: a tag is reported, a digest is not."""

from __future__ import annotations

from tests.test_policies import platform, stack_violations

DIGEST = "sha256:" + "ab" * 32


def test_a_tagged_image_is_reported() -> None:
    found = stack_violations("image-digest", [platform(image="registry.fly.io/webhost:1.0.0")])
    assert len(found) == 1
    assert "webhost:image registry.fly.io/webhost:1.0.0 is a tag" in found[0]


def test_an_image_pinned_by_digest_passes() -> None:
    image = f"registry.fly.io/webhost:1.0.0@{DIGEST}"
    assert stack_violations("image-digest", [platform(image=image)]) == []
