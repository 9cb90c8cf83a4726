"""``vk det convert voc2coco|images2coco``: make COCO instance JSON from VOC XML or from a folder of images."""

from __future__ import annotations

import json
import os
import os.path as osp

from ._progress import track

HELP = "convert datasets to COCO format: voc2coco (Pascal VOC XML), images2coco (unlabelled images)"


def voc_to_coco(voc_root: str, split: str, classes, out_file: str | None = None, clip: bool = True) -> dict:
    """COCO dict for ``<voc_root>/ImageSets/Main/<split>.txt``: xywh boxes clipped to the image, zero-size
    boxes dropped, difficult objects marked ``iscrowd=1`` so that COCO evaluation ignores them."""
    from ..datasets.voc import parse_voc_xml

    ids_file = osp.join(voc_root, "ImageSets", "Main", f"{split}.txt")
    if not osp.isfile(ids_file):
        raise FileNotFoundError(f"voc2coco: split list not found: {ids_file}")
    with open(ids_file, encoding="utf-8") as f:
        ids = [line.strip().split()[0] for line in f if line.strip()]
    images, annotations = [], []
    for image_id, name in enumerate(track(ids, description=f"voc2coco {split}"), start=1):
        xml_path = osp.join(voc_root, "Annotations", f"{name}.xml")
        size, instances = parse_voc_xml(xml_path, classes)
        if not size:
            raise ValueError(f"{xml_path}: no <size>; voc2coco needs the image width and height")
        w, h = size["width"], size["height"]
        images.append(dict(id=image_id, file_name=f"{name}.jpg", width=w, height=h))
        for inst in instances:
            x1, y1, x2, y2 = (float(v) for v in inst["bbox"])
            if clip:
                x1, x2 = min(max(x1, 0), w), min(max(x2, 0), w)
                y1, y2 = min(max(y1, 0), h), min(max(y2, 0), h)
            if x2 <= x1 or y2 <= y1:
                continue
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=image_id,
                    category_id=inst["bbox_label"] + 1,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=(x2 - x1) * (y2 - y1),
                    iscrowd=int(inst["ignore_flag"]),
                    segmentation=[],
                )
            )
    coco = dict(
        images=images,
        annotations=annotations,
        categories=[dict(id=i + 1, name=name) for i, name in enumerate(classes)],
    )
    if out_file:
        _write(coco, out_file)
    return coco


def images_to_coco(img_dir: str, classes, out_file: str | None = None) -> dict:
    """COCO dict listing every image under ``img_dir`` with its size and no annotations (for test sets)."""
    import cv2

    from ..apis.det_inferencer import list_images

    images = []
    files = list_images(img_dir)
    for image_id, path in enumerate(track(files, description="images2coco"), start=1):
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if img is None:
            raise ValueError(f"images2coco: cannot read image {path}")
        images.append(dict(id=image_id, file_name=osp.relpath(path, img_dir), width=img.shape[1], height=img.shape[0]))
    coco = dict(images=images, annotations=[], categories=[dict(id=i + 1, name=n) for i, n in enumerate(classes)])
    if out_file:
        _write(coco, out_file)
    return coco


def _write(coco: dict, out_file: str) -> None:
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with open(out_file, "w", encoding="utf-8") as f:
        json.dump(coco, f)
    print(f"wrote {out_file}: {len(coco['images'])} images, {len(coco['annotations'])} annotations")


def _read_classes(value: str | None):
    if value is None:
        from ..datasets.voc import VOC_CLASSES

        return VOC_CLASSES
    if osp.isfile(value):
        with open(value, encoding="utf-8") as f:
            return tuple(line.strip() for line in f if line.strip())
    return tuple(c.strip() for c in value.split(",") if c.strip())


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="convert_kind", metavar="KIND")
    voc = sub.add_parser("voc2coco", help="Pascal VOC XML to COCO JSON, one file per split")
    voc.add_argument("voc_root", help="folder holding Annotations/, ImageSets/Main/ and JPEGImages/")
    voc.add_argument("--splits", nargs="+", default=["train", "val"], help="ImageSets/Main/<split>.txt lists")
    voc.add_argument("--classes", help="comma-separated names or a file with one per line (default: the 20 VOC)")
    voc.add_argument("--out-dir", required=True, help="writes instances_<split>.json here")
    img = sub.add_parser("images2coco", help="a folder of images to a COCO JSON without annotations")
    img.add_argument("img_dir")
    img.add_argument("classes", help="comma-separated names or a file with one per line")
    img.add_argument("out_file")
    parser.set_defaults(_convert_help=parser.print_help)


def run(args) -> int:
    if args.convert_kind == "voc2coco":
        classes = _read_classes(args.classes)
        for split in args.splits:
            voc_to_coco(args.voc_root, split, classes, osp.join(args.out_dir, f"instances_{split}.json"))
        return 0
    if args.convert_kind == "images2coco":
        images_to_coco(args.img_dir, _read_classes(args.classes), args.out_file)
        return 0
    args._convert_help()
    return 2
