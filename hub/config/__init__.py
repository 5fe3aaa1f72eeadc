"""The hub config and its checks: what an admin writes, validated before anything runs.

The hub config names each system's connector, base URL and mapping file, and
its credentials only by reference: an environment variable (``{env: VAR}``) or
a Prefect Secret block (``{prefect_secret: NAME}``, read through
:mod:`hub.config.secrets`); a secret never sits in the YAML. Secrets are
resolved on use into ``SecretStr`` so they never print.

- models: :mod:`~hub.config.root` (the file), :mod:`~hub.config.systems`,
  :mod:`~hub.config.handoffs`, :mod:`~hub.config.webhooks`;
- reading: :mod:`~hub.config.yamlio` (YAML with line numbers and limits),
  :mod:`~hub.config.schema` (the JSON Schemas, generated from the models);
- :func:`hub.config.loading.load_config` checks a file and its mapping files
  and reports every problem at once: :mod:`~hub.config.checks`, values that
  would fail at run time (:mod:`~hub.config.values`) and templates against the
  variables they see (:mod:`~hub.config.templates`).
"""
