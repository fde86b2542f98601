#!/usr/bin/env python3
"""A study's objective as a command: the Branin function of (x1, x2), printed as a JSON line.

evolv runs it once per trial (examples/study-branin.json) and reads its last line on stdout.
Its global minimum is 0.397887, at (-pi, 12.275), (pi, 2.275) and (9.42478, 2.475).
"""
import argparse
import json
import math

parser = argparse.ArgumentParser()
parser.add_argument("--x1", type=float, required=True)
parser.add_argument("--x2", type=float, required=True)
args = parser.parse_args()
b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
value = (args.x2 - b * args.x1**2 + c * args.x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(args.x1) + 10
print(json.dumps({"value": value}))
