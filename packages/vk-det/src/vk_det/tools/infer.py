"""``vk det infer CONFIG_OR_NAME IMAGES --weights W``: DetInferencer from the command line."""

from __future__ import annotations

HELP = "run a detector on images or folders and write preds/NAME.json and vis/NAME.jpg"


def add_arguments(parser) -> None:
    parser.add_argument("config", help="config path or shipped config name (e.g. retinanet_r18_fpn_shapes)")
    parser.add_argument("inputs", nargs="+", help="image files and/or folders")
    parser.add_argument("--weights", help="checkpoint to load")
    parser.add_argument("--out-dir", default="outputs", help="output folder (default: outputs)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--pred-score-thr", type=float, default=0.3, help="drawing threshold")
    parser.add_argument("--no-save-vis", action="store_true")
    parser.add_argument("--no-save-pred", action="store_true")
    parser.add_argument("--print-result", action="store_true")
    parser.add_argument("--show", action="store_true", help="show each drawing in a window")


def run(args) -> int:
    from ..apis import DetInferencer

    inferencer = DetInferencer(args.config, weights=args.weights, device=args.device)
    inputs = args.inputs[0] if len(args.inputs) == 1 else args.inputs
    result = inferencer(
        inputs,
        batch_size=args.batch_size,
        pred_score_thr=args.pred_score_thr,
        out_dir=args.out_dir,
        no_save_vis=args.no_save_vis,
        no_save_pred=args.no_save_pred,
        print_result=args.print_result,
        show=args.show,
    )
    n = len(result["predictions"])
    print(f"{n} image{'s' if n != 1 else ''} done; results in {args.out_dir}")
    return 0
