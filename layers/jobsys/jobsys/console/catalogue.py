"""The seed's example commands: import a catalogue, then index it.

They keep their data in the job system's S3 bucket (`JOBS_BUCKET`) under `catalogue/AREA/`,
or in a local folder (`JOBS_DATA_DIR`) when run by hand outside the stack.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

BATCH_SIZE = 10
_WORD = re.compile(r"[a-z0-9]+")
_AREA = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DataArea:
    """Where one area's files live: an S3 prefix, or a folder."""

    def __init__(self, area: str):
        self.area = area
        self.bucket = os.environ.get("JOBS_BUCKET")
        self.folder = Path(os.environ.get("JOBS_DATA_DIR", "var/data")) / "catalogue" / area
        if self.bucket:
            import boto3

            self.s3 = boto3.client("s3")

    def key(self, name: str) -> str:
        return f"catalogue/{self.area}/{name}"

    def write(self, name: str, text: str) -> str:
        if self.bucket:
            self.s3.put_object(
                Bucket=self.bucket, Key=self.key(name), Body=text.encode(), ContentType="application/json"
            )
            return f"s3://{self.bucket}/{self.key(name)}"
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return str(path)

    def read(self, name: str) -> str | None:
        if self.bucket:
            try:
                return self.s3.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read().decode()
            except self.s3.exceptions.NoSuchKey:
                return None
        path = self.folder / name
        return path.read_text(encoding="utf-8") if path.exists() else None


def _area_from(params: list[str], default: str | None) -> str | None:
    area = params[0] if params else default
    if area is None or not _AREA.match(area):
        print("AREA must be 1-64 letters, digits, '-' or '_'", file=sys.stderr)
        return None
    return area


def _clean(product: dict[str, Any]) -> dict[str, Any]:
    price = Decimal(str(product["price"]))
    if price < 0:
        raise InvalidOperation
    return {
        "sku": product["sku"],
        "name": product["name"].strip(),
        "category": product["category"],
        "description": product["description"].strip(),
        "price": str(price.quantize(Decimal("0.01"))),
        "currency": product["currency"],
        "in_stock": product["stock"] > 0,
    }


def import_catalogue(params: list[str]) -> int:
    area = _area_from(params, default=None)
    if area is None:
        return 2
    source = json.loads(resources.files("jobsys.data").joinpath("catalogue.json").read_text())
    products = source["products"]
    target = DataArea(area)
    print(f"importing {len(products)} products from {source['source']} into area '{area}'", flush=True)
    parts: list[str] = []
    imported = skipped = 0
    for start in range(0, len(products), BATCH_SIZE):
        batch = []
        for product in products[start : start + BATCH_SIZE]:
            try:
                batch.append(_clean(product))
            except (KeyError, InvalidOperation, AttributeError):
                skipped += 1
                # Warnings go to stderr, as a real import's do: they stay apart from its progress.
                print(
                    f"warning: skipped {product.get('sku', '?')}: invalid price {product.get('price')!r}",
                    file=sys.stderr,
                    flush=True,
                )
        name = f"part-{len(parts) + 1:04d}.ndjson"
        target.write(name, "".join(json.dumps(p) + "\n" for p in batch))
        parts.append(name)
        imported += len(batch)
        print(f"imported {imported}/{len(products)} products ({name})", flush=True)
        print(f"PROGRESS {min(start + BATCH_SIZE, len(products))}/{len(products)}", flush=True)
    where = target.write("manifest.json", json.dumps({"parts": parts, "products": imported, "skipped": skipped}))
    print(f"import finished: {imported} imported, {skipped} skipped, manifest at {where}", flush=True)
    return 0


def index_catalogue(params: list[str]) -> int:
    area = _area_from(params, default="tmp")
    if area is None:
        return 2
    source = DataArea(area)
    manifest_text = source.read("manifest.json")
    if manifest_text is None:
        print(f"error: nothing imported in area '{area}': run silver:import {area} first", file=sys.stderr)
        return 1
    manifest = json.loads(manifest_text)
    index: dict[str, set[str]] = defaultdict(set)
    documents = 0
    for part in manifest["parts"]:
        for line in (source.read(part) or "").splitlines():
            product = json.loads(line)
            documents += 1
            text = " ".join((product["name"], product["category"], product["description"])).lower()
            for word in _WORD.findall(text):
                index[word].add(product["sku"])
        print(f"indexed {part}: {documents} documents so far", flush=True)
    terms = {word: sorted(skus) for word, skus in sorted(index.items())}
    where = source.write("index.json", json.dumps({"documents": documents, "terms": terms}))
    print(f"index built: {documents} documents, {len(terms)} terms, written to {where}", flush=True)
    return 0
