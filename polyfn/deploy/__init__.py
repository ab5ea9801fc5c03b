"""Deployment descriptors generated from an App (``polyfn deploy-config aws|azure|gcp``).

- :func:`sam_template` (aws_sam.py): an AWS SAM template, one function per polyfn function;
- :func:`serverless_config` / :func:`serverless_yaml` (aws_serverless.py): the same as a
  Serverless Framework v3 serverless.yml (aws_resources.py: what the two share);
- :func:`azure_app_folder` (azure_folder.py): a Functions app folder (function_app.py,
  host.json, requirements.txt, local.settings.json);
- :func:`gcloud_commands` (gcp_commands.py): the ``gcloud`` commands deploying each target;
- :func:`terraform_main` (gcp_terraform.py): the same as a Terraform main.tf;
- :func:`check_drift` (drift.py): differences between a descriptor on disk and a fresh one.

The app's workflows (``polyfn.workflow.local.workflow``) are in each: Step Functions state
machines (aws_workflows.py), Cloud Workflows with private HTTP task functions
(gcp_workflow_plan.py), Durable Functions through the Azure folder's ``function_app``
(``polyfn.adapters.azure.workflows``; requirements.txt lists azure-functions-durable).
"""

from __future__ import annotations

from polyfn.deploy.aws_sam import sam_template
from polyfn.deploy.aws_serverless import serverless_config, serverless_yaml
from polyfn.deploy.azure_folder import azure_app_folder, azure_files
from polyfn.deploy.drift import check_drift
from polyfn.deploy.gcp_commands import gcloud_commands, gcloud_script
from polyfn.deploy.gcp_terraform import terraform_main

# Each provider's descriptor formats, the default first.
FORMATS = {"aws": ("sam", "serverless"), "azure": ("folder",), "gcp": ("commands", "terraform")}

__all__ = [
    "FORMATS",
    "azure_app_folder",
    "azure_files",
    "check_drift",
    "gcloud_commands",
    "gcloud_script",
    "sam_template",
    "serverless_config",
    "serverless_yaml",
    "terraform_main",
]
