"""Domain scalar aliases. They document intent in signatures; at run time they are plain values."""

from typing import NewType

Address = NewType("Address", str)  # 0x-prefixed, checksummed where it matters
Wei = NewType("Wei", int)
TokenAmount = NewType("TokenAmount", int)
TxCount = NewType("TxCount", int)
Signature = NewType("Signature", bytes)
Bytes32 = NewType("Bytes32", bytes)

ZERO_ADDRESS = Address("0x0000000000000000000000000000000000000000")
ZERO_BYTES32 = Bytes32(b"\x00" * 32)

# Storage packing limits of the contract (ValueTooLarge above them).
MAX_AMOUNT = 2**128 - 1
MAX_TX_COUNT = 2**64 - 1
MAX_THREAD_COUNT = 2**32 - 1
# A disputed thread is stored in two slots, so its amounts (each bounded by the initial sender
# balances) must fit 96 bits: startExitThread refuses larger initial balances.
MAX_THREAD_AMOUNT = 2**96 - 1
# The constructor's bound on the challenge period (InvalidConfiguration above it).
MAX_CHALLENGE_PERIOD = 365 * 24 * 3600
