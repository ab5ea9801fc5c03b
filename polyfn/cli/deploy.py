"""``polyfn deploy-config aws|azure|gcp [TARGET] [--format F] [--out PATH] [--check]``:
write (or print) the app's deployment descriptor: a SAM template (JSON; ``--format
serverless``: a Serverless Framework v3 serverless.yml), an Azure Functions app folder, or
a gcloud shell script (``--format terraform``: a Terraform main.tf); ``--check`` compares
the one at ``--out`` with a fresh one instead, and exits 1 when they differ."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from polyfn.cli.errors import FAILED, CliError
from polyfn.cli.target import load, resolve

HELP = (
    "write the app's deployment descriptor (SAM template or serverless.yml, Azure folder, "
    "gcloud script or Terraform)"
)


def register(commands: Any) -> None:
    p = commands.add_parser(
        "deploy-config",
        help=HELP,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("provider", choices=("aws", "azure", "gcp"))
    p.add_argument("target", metavar="TARGET", nargs="?", help="the app (see polyfn --help)")
    p.add_argument(
        "--format",
        choices=("sam", "serverless", "folder", "commands", "terraform"),
        help="aws: sam (default) or serverless; azure: folder; gcp: commands (default) or "
        "terraform",
    )
    p.add_argument(
        "--out", metavar="PATH", help="the file (azure: the folder) to write; default: print"
    )
    p.add_argument(
        "--check", action="store_true", help="compare --out with a fresh descriptor; 1 on drift"
    )
    p.add_argument("--module", metavar="MODULE:ATTR", help="POLYFN_APP / function_app's app")
    p.add_argument("--code-uri", default=".", help="aws: the CodeUri (default .)")
    p.add_argument("--project", default="PROJECT", help="gcp: the project (default PROJECT)")
    p.add_argument("--region", default="REGION", help="gcp: the region (default REGION)")
    p.set_defaults(run=run)


def _format(args: argparse.Namespace) -> str:
    from polyfn.deploy import FORMATS

    formats = FORMATS[args.provider]
    fmt = args.format or formats[0]
    if fmt not in formats:
        raise CliError(
            f"deploy-config {args.provider}: --format {fmt}: one of {', '.join(formats)}"
        )
    return fmt


def _options(args: argparse.Namespace, module: str, fmt: str) -> dict[str, Any]:
    if fmt == "serverless":
        return {"app_module": module}
    if fmt == "terraform":
        return {}  # project and region are Terraform variables
    if args.provider == "aws":
        return {"app_module": module, "code_uri": args.code_uri}
    if args.provider == "azure":
        return {"app_module": module}
    return {"project": args.project, "region": args.region}


def run(args: argparse.Namespace) -> int:
    ref = resolve(args.target)
    app = load(ref)
    module = args.module or f"{ref.module}:{ref.attribute or 'app'}"
    fmt = _format(args)
    options = _options(args, module, fmt)
    if args.check:
        if not args.out:
            raise CliError("deploy-config --check: name the descriptor with --out")
        from polyfn.deploy.drift import check_drift

        found = check_drift(app, args.out, args.provider, fmt, **options)
        for line in found:
            print(line)
        if found:
            print(f"{args.out}: {len(found)} difference(s)", file=sys.stderr)
            return FAILED
        print(f"{args.out}: up to date")
        return 0
    if args.provider == "azure":
        from polyfn.deploy.azure_folder import azure_app_folder, azure_files

        if args.out:
            for path in azure_app_folder(app, args.out, **options):
                print(path)
        else:
            for name, text in azure_files(app, **options).items():
                print(f"# {name}\n{text}")
        return 0
    if fmt == "serverless":
        from polyfn.deploy.aws_serverless import serverless_yaml

        text = serverless_yaml(app, **options)
    elif fmt == "terraform":
        from polyfn.deploy.gcp_terraform import terraform_main

        text = terraform_main(app, **options)
    elif args.provider == "aws":
        from polyfn.deploy.aws_sam import sam_template

        text = json.dumps(sam_template(app, **options), indent=2) + "\n"
    else:
        from polyfn.deploy.gcp_commands import gcloud_script

        text = gcloud_script(app, **options)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(args.out)
    else:
        sys.stdout.write(text)
    return 0
