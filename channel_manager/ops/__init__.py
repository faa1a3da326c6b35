"""What the deploy and operate scripts (`scripts/`) check before they send anything.

Nothing here talks to a chain or imports brownie: the scripts read the chain and hand plain
values in. Every refusal is an `OpsError` whose message is one line naming the problem; the
scripts print it as `error: <message>` and exit with status 2, having sent nothing.

Rooms: `inputs` (yes/no flags, addresses, amounts, challenge periods), `settings` (a network's
deploy and operate settings, accounts), `envelopes` (the signed-state JSON files), `prechecks`
(an envelope's state, domain and signatures), `chain_view` (what the scripts read from the chain,
as a reference model), `refusals` (the model's verdict on a call, explained), `records`
(deployment records), `display` (amounts, times and errors as one short line).
"""


class OpsError(Exception):
    """A refusal of a deploy or operate script: one line, nothing was sent."""
