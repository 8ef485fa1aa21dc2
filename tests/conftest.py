import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The API function's modules are top-level in its code folder, as in Lambda.
sys.path.insert(0, str(ROOT / "functions" / "api"))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
