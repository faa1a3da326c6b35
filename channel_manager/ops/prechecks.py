"""Checks of a signed envelope the package can make without the chain: it names this
deployment, its channel state is storable and consistent, and its signatures recover to the
parties that must sign it."""

from __future__ import annotations

from channel_manager import errors as E
from channel_manager.aliases import ZERO_ADDRESS
from channel_manager.eip712 import Domain, channel_digest, thread_digest
from channel_manager.ops import OpsError
from channel_manager.ops.envelopes import Envelope
from channel_manager.rules import check_storable, check_thread_fields
from channel_manager.signing import WrongSigner, check_signer
from channel_manager.states import ChannelState


def check_envelope_domain(env: Envelope, domain: Domain) -> None:
    """The envelope, if it names a chain or contract, names this deployment."""
    if env.chain_id is not None and env.chain_id != domain.chain_id:
        raise OpsError(
            f"{env.source}: signed for chain {env.chain_id}, this is chain {domain.chain_id}"
        )
    if env.contract is not None and env.contract != domain.verifying_contract:
        raise OpsError(
            f"{env.source}: signed for contract {env.contract}, not {domain.verifying_contract}"
        )


def check_channel_state(env: Envelope) -> ChannelState:
    """Rules of a single state the package can check without the chain."""
    state = env.channel
    try:
        check_storable(state)
        check_thread_fields(state)
    except E.ChannelError as exc:
        raise OpsError(f"{env.source}: invalid state: {exc}") from None
    if state.user == ZERO_ADDRESS:
        raise OpsError(f"{env.source}: the state's user is the zero address")
    return state


def require_signature(
    digest: bytes, signature: bytes | None, expected: str, role: str, source: str
) -> None:
    """`signature` is present and a 65-byte ECDSA signature of `digest` by `expected`."""
    if signature is None:
        raise OpsError(f"{source}: the {role}'s signature is missing")
    try:
        check_signer(digest, signature, expected, role)
    except WrongSigner as exc:
        raise OpsError(f"{source}: {exc}") from None


def check_channel_signatures(
    env: Envelope,
    domain: Domain,
    hub: str,
    *,
    need_hub: bool,
    need_user: bool,
    user_is_contract: bool = False,
) -> None:
    """Recover the hub's and user's signatures over the EIP-712 digest. A user with code signs
    through ERC-1271, which only the chain can answer: that check is left to the simulation."""
    digest = channel_digest(domain, env.channel)
    if need_hub:
        require_signature(digest, env.sig_hub, hub, "hub", env.source)
    if need_user and not user_is_contract:
        require_signature(digest, env.sig_user, env.channel.user, "user", env.source)
    elif need_user and env.sig_user is None:
        raise OpsError(f"{env.source}: the user's signature is missing")


def check_thread_signature(
    env: Envelope, domain: Domain, *, sender_is_contract: bool = False
) -> None:
    state = env.thread
    if sender_is_contract:
        if not env.sig:
            raise OpsError(f"{env.source}: the sender's signature is missing")
        return
    require_signature(thread_digest(domain, state), env.sig, state.sender, "sender", env.source)
