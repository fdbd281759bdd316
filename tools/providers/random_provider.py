"""Stand-in for pulumi-resource-random: `random:index/randomPassword:RandomPassword` only.

Semantics kept from pulumi-random (a bridge of hashicorp/terraform-provider-random,
whose password resource marks every argument ForceNew, defaults special, upper,
lower and numeric to true, the min_* counts to 0, and uses the id "none"):
- any input change replaces the password; refresh reads nothing back;
- `result` is generated once at create (unknown in preview), from the enabled
  character classes with each min_* count honoured; the SDK marks it secret.
Not kept: bcryptHash (this program never reads it).
"""

from __future__ import annotations

import os
import secrets
import string
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

if __name__ == "__main__":  # a plugin process: the protocol modules alone (protos.py)
    import protos

    protos.load_without_sdk()

import standin

DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
FLAGS = {"special": True, "upper": True, "lower": True, "numeric": True}
MINIMUMS = ("minSpecial", "minUpper", "minLower", "minNumeric")


class RandomPassword(standin.Resource):
    replace_on_any = True

    def check(self, news: standin.Props) -> tuple[standin.Props, list[tuple[str, str]]]:
        out = {**{k: v for k, v in FLAGS.items()}, **{k: 0 for k in MINIMUMS}, **news}
        failures = []
        length = out.get("length")
        if length != standin.UNKNOWN and (not isinstance(length, (int, float)) or length < 1):
            failures.append(("length", "length is required and must be at least 1"))
        return out, failures

    def create(self, name: str, inputs: standin.Props, preview: bool) -> tuple[str, standin.Props]:
        if preview:
            return "none", {**inputs, "result": standin.UNKNOWN}
        classes = {
            "upper": (string.ascii_uppercase, "minUpper"),
            "lower": (string.ascii_lowercase, "minLower"),
            "numeric": (string.digits, "minNumeric"),
            "special": (inputs.get("overrideSpecial") or DEFAULT_SPECIAL, "minSpecial"),
        }
        chars: list[str] = []
        pool = ""
        for flag, (alphabet, minimum) in classes.items():
            if inputs.get(flag):
                pool += alphabet
                chars += [secrets.choice(alphabet) for _ in range(int(inputs.get(minimum, 0)))]
        length = int(inputs["length"])
        chars += [secrets.choice(pool) for _ in range(max(0, length - len(chars)))]
        secrets.SystemRandom().shuffle(chars)
        return "none", {**inputs, "result": "".join(chars)}

    def update(self, olds: standin.Props, news: standin.Props, preview: bool) -> standin.Props:
        raise RuntimeError("random stand-in: every change replaces a password")


if __name__ == "__main__":
    standin.serve(
        lambda: standin.Provider(
            "random",
            os.environ["STANDIN_VERSION"],
            {"random:index/randomPassword:RandomPassword": RandomPassword()},
        )
    )
