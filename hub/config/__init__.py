"""The hub config and its checks: what an admin writes, validated before anything runs.

The hub config names each system's connector, base URL and mapping file, and
its credentials only by reference: an environment variable (``{env: VAR}``) or
a Prefect Secret block (``{prefect_secret: NAME}``, read through
:mod:`handoff_hub.hub.config.secrets`); a secret never sits in the YAML. Secrets are
resolved on use into ``SecretStr`` so they never print.

- models: :mod:`~handoff_hub.hub.config.root` (the file), :mod:`~handoff_hub.hub.config.systems`,
  :mod:`~handoff_hub.hub.config.handoffs`, :mod:`~handoff_hub.hub.config.webhooks`;
- reading: :mod:`~handoff_hub.hub.config.yamlio` (YAML with line numbers and limits),
  :mod:`~handoff_hub.hub.config.schema` (the JSON Schemas, generated from the models);
- :func:`hub.config.loading.load_config` checks a file and its mapping files
  and reports every problem at once: :mod:`~handoff_hub.hub.config.checks`, values that
  would fail at run time (:mod:`~handoff_hub.hub.config.values`) and templates against the
  variables they see (:mod:`~handoff_hub.hub.config.templates`).
"""
