"""Deployment descriptors generated from an App (``polyfn deploy-config aws|azure|gcp``).

- :func:`sam_template` (aws_sam.py): an AWS SAM template, one function per polyfn function;
- :func:`azure_app_folder` (azure_folder.py): a Functions app folder (function_app.py,
  host.json, requirements.txt, local.settings.json);
- :func:`gcloud_commands` (gcp_commands.py): the ``gcloud`` commands deploying each target;
- :func:`check_drift` (drift.py): differences between a descriptor on disk and a fresh one.
"""

from __future__ import annotations

from polyfn.deploy.aws_sam import sam_template
from polyfn.deploy.azure_folder import azure_app_folder, azure_files
from polyfn.deploy.drift import check_drift
from polyfn.deploy.gcp_commands import gcloud_commands, gcloud_script

__all__ = [
    "azure_app_folder",
    "azure_files",
    "check_drift",
    "gcloud_commands",
    "gcloud_script",
    "sam_template",
]
