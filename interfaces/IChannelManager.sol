// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IChannelManager — the public surface of the payment-channel hub
/// @notice One hub, one channel per user, ETH plus one ERC20, single-hop threads between users.
/// @dev Behaviour is specified in docs/protocol.md; section numbers below refer to it. Channel balances are `[hub, user]`, thread balances `[sender, receiver]`, pending
///      updates `[hubDeposit, hubWithdrawal, userDeposit, userWithdrawal]`, txCount
///      `[global, onchain]`. Amounts are limited to 128 bits and counters to 64 bits
///      (`ValueTooLarge`) so that a channel fits in five storage slots; a thread's amounts to
///      96 bits, so that a disputed thread fits in two.
interface IChannelManager {
    // ------------------------------------------------------------------ types

    /// @notice Dispute status of a channel (§2).
    enum Status {
        Open,
        ChannelDispute,
        ThreadDispute
    }

    /// @notice A channel state signed by hub and user (§3).
    struct ChannelState {
        address user;
        address recipient;
        uint256[2] weiBalances;
        uint256[2] tokenBalances;
        uint256[4] pendingWeiUpdates;
        uint256[4] pendingTokenUpdates;
        uint256[2] txCount;
        bytes32 threadRoot;
        uint256 threadCount;
        uint256 timeout;
    }

    /// @notice A thread state signed by its sender (§3, §8).
    struct ThreadState {
        address sender;
        address receiver;
        uint256 threadId;
        uint256[2] weiBalances;
        uint256[2] tokenBalances;
        uint256 txCount;
    }

    // ------------------------------------------------------------------ events

    /// @notice The hub took `weiAmount` and `tokenAmount` out of its reserve.
    /// @param weiAmount ETH paid to the hub.
    /// @param tokenAmount Tokens paid to the hub.
    event DidHubContractWithdraw(uint256 weiAmount, uint256 tokenAmount);

    /// @notice An authorized update was executed; the fields are the submitted state's.
    /// @dev Stored balances follow from the apply rule (§4); the totals change by
    ///      deposits − withdrawals.
    /// @param user The channel's user (topic).
    /// @param caller The hub (hubAuthorizedUpdate) or the user (userAuthorizedUpdate).
    /// @param weiBalances The state's `[hub, user]` ETH balances, before the pending updates.
    /// @param tokenBalances The state's `[hub, user]` token balances, likewise.
    /// @param pendingWeiUpdates The ETH updates executed: `[hubDeposit, hubWithdrawal, userDeposit,
    ///        userWithdrawal]`.
    /// @param pendingTokenUpdates The token updates executed, likewise.
    /// @param txCount The state's `[global, onchain]` txCount, now stored.
    /// @param threadRoot The state's thread root, now stored.
    /// @param threadCount The state's number of open threads, now stored.
    event DidUpdateChannel(
        address indexed user,
        address caller,
        uint256[2] weiBalances,
        uint256[2] tokenBalances,
        uint256[4] pendingWeiUpdates,
        uint256[4] pendingTokenUpdates,
        uint256[2] txCount,
        bytes32 threadRoot,
        uint256 threadCount
    );

    /// @notice A channel dispute started; balances are the stored ones it runs on.
    /// @param user The channel's user (topic).
    /// @param caller Who started it (hub or user): the exit initiator.
    /// @param weiBalances Stored `[hub, user]` ETH balances the dispute runs on.
    /// @param tokenBalances Stored `[hub, user]` token balances, likewise.
    /// @param txCount Stored `[global, onchain]` txCount.
    /// @param threadRoot Stored thread root.
    /// @param threadCount Stored number of open threads.
    /// @param channelClosingTime End of the challenge window (answers accepted before it).
    event DidStartExitChannel(
        address indexed user,
        address caller,
        uint256[2] weiBalances,
        uint256[2] tokenBalances,
        uint256[2] txCount,
        bytes32 threadRoot,
        uint256 threadCount,
        uint256 channelClosingTime
    );

    /// @notice A channel was emptied; balances are what was paid out (`[hub, user]`).
    /// @dev `threadCount > 0` means the channel is now in `ThreadDispute`, else `Open`; then the
    ///      user's amounts include any surplus (total − hub − user) paid with its balance (§8).
    /// @param user The channel's user (topic).
    /// @param caller Who emptied it (anyone after the window; earlier the non-initiating party).
    /// @param weiBalances `[hub, user]` ETH: returned to the reserve, paid (or credited) to the user.
    /// @param tokenBalances `[hub, user]` tokens, likewise.
    /// @param txCount The `[global, onchain]` txCount the channel keeps.
    /// @param threadRoot The thread root the channel keeps (its threads' disputes run on it).
    /// @param threadCount Threads still open in the channel.
    event DidEmptyChannel(
        address indexed user,
        address caller,
        uint256[2] weiBalances,
        uint256[2] tokenBalances,
        uint256[2] txCount,
        bytes32 threadRoot,
        uint256 threadCount
    );

    /// @notice A thread dispute started with the given (initial or later) state.
    /// @param user The channel the initial state was proven in (topic).
    /// @param sender The thread's sender (topic).
    /// @param receiver The thread's receiver (topic).
    /// @param threadId The thread's id.
    /// @param caller Who started it (hub or user).
    /// @param weiBalances `[sender, receiver]` ETH of the state the record starts from.
    /// @param tokenBalances `[sender, receiver]` tokens, likewise.
    /// @param txCount The record's txCount (the highest shown, saturated; decides nothing).
    /// @param threadClosingTime End of the thread's challenge window.
    event DidStartExitThread(
        address indexed user,
        address indexed sender,
        address indexed receiver,
        uint256 threadId,
        address caller,
        uint256[2] weiBalances,
        uint256[2] tokenBalances,
        uint256 txCount,
        uint256 threadClosingTime
    );

    /// @notice A running thread dispute was answered with a newer state.
    /// @param sender The thread's sender (topic).
    /// @param receiver The thread's receiver (topic).
    /// @param threadId The thread's id (topic).
    /// @param caller Who answered (hub, sender or receiver).
    /// @param weiBalances The record's `[sender, receiver]` ETH after the answer (per asset the
    ///        higher receiver balance), not the submitted state's.
    /// @param tokenBalances The record's `[sender, receiver]` tokens, likewise.
    /// @param txCount The record's txCount (the highest shown, saturated; decides nothing).
    event DidChallengeThread(
        address indexed sender,
        address indexed receiver,
        uint256 indexed threadId,
        address caller,
        uint256[2] weiBalances,
        uint256[2] tokenBalances,
        uint256 txCount
    );

    /// @notice One side of a disputed thread was settled in `user`'s channel.
    /// @dev `weiPaid`/`tokenPaid` went to `user`; the rest of the thread's amount returned to
    ///      the reserve; at `threadCount` 0 they include whatever else the channel held (§8).
    /// @param user The channel whose side was settled (topic).
    /// @param sender The thread's sender (topic).
    /// @param receiver The thread's receiver (topic).
    /// @param threadId The thread's id.
    /// @param caller Who settled it (hub or user).
    /// @param weiPaid ETH paid (or credited) to `user`.
    /// @param tokenPaid Tokens paid (or credited) to `user`.
    /// @param threadCount Threads still open in the channel (0: it reopened).
    event DidEmptyThread(
        address indexed user,
        address indexed sender,
        address indexed receiver,
        uint256 threadId,
        address caller,
        uint256 weiPaid,
        uint256 tokenPaid,
        uint256 threadCount
    );

    /// @notice The channel's remaining thread funds were paid to the user after the nuke deadline.
    /// @param user The channel's user (topic).
    /// @param caller Who nuked (anyone).
    /// @param weiAmount ETH paid (or credited) to the user: the channel's whole ETH total.
    /// @param tokenAmount Tokens paid (or credited) to the user: the whole token total.
    event DidNukeThreads(address indexed user, address caller, uint256 weiAmount, uint256 tokenAmount);

    /// @notice A payout to `user` was refused and credited instead (§7).
    /// @param user The credited address (topic).
    /// @param weiAmount ETH credited by this payout (0 if the ETH transfer went through).
    /// @param tokenAmount Tokens credited by this payout, likewise.
    event DidCreditUser(address indexed user, uint256 weiAmount, uint256 tokenAmount);

    /// @notice `user` claimed its credits to `to`.
    /// @param user The credited address that called `claim` (topic).
    /// @param to Where the credits were paid (topic).
    /// @param weiAmount ETH paid: all of `user`'s ETH credit.
    /// @param tokenAmount Tokens paid: all of `user`'s token credit.
    event DidClaim(address indexed user, address indexed to, uint256 weiAmount, uint256 tokenAmount);

    // ------------------------------------------------------------------ errors
    // Each error names the broken rule and carries the offending values; the contract raises each
    // from exactly one guard (`_require…`).

    /// @notice Constructor arguments out of range: zero hub, token without code, or a challenge
    ///         period outside `[1, 365 days]`.
    /// @param hub The hub given.
    /// @param challengePeriod The challenge period given, in seconds.
    /// @param approvedToken The token given.
    error InvalidConfiguration(address hub, uint256 challengePeriod, address approvedToken);
    /// @notice Only the hub may call this.
    /// @param caller The caller (`msg.sender`).
    error NotHub(address caller);
    /// @notice Only the hub or the channel's user may call this.
    /// @param caller The caller (`msg.sender`).
    /// @param user The channel's user.
    error NotHubOrUser(address caller, address user);
    /// @notice Only the channel's user may call this (userAuthorizedUpdate).
    /// @param caller The caller (`msg.sender`).
    /// @param user The state's user.
    error NotUser(address caller, address user);
    /// @notice Only the hub, the thread's sender or its receiver may call this.
    /// @param caller The caller (`msg.sender`).
    error NotThreadParty(address caller);
    /// @notice The user is zero, the hub or this contract.
    /// @param user The user named in the call (argument or `state.user`).
    error InvalidUser(address user);
    /// @notice The channel is not in the status this call needs.
    /// @param user The channel's user.
    /// @param status The channel's current status.
    error WrongChannelStatus(address user, Status status);
    /// @notice The exit initiator may not answer its own dispute.
    /// @param caller The caller, who started the running dispute.
    error CallerIsExitInitiator(address caller);
    /// @notice The state's timeout has passed (`block.timestamp >= timeout`).
    /// @param timeout The state's timeout.
    /// @param timestamp The block timestamp.
    error StateExpired(uint256 timeout, uint256 timestamp);
    /// @notice A state with a timeout cannot be used in a dispute.
    /// @param timeout The state's (non-zero) timeout.
    error TimeSensitiveState(uint256 timeout);
    /// @notice The state's global txCount is not above the stored one.
    /// @param given The state's `txCount[0]`.
    /// @param stored The channel's stored global txCount.
    error StaleTxCount(uint256 given, uint256 stored);
    /// @notice The state's onchain txCount is below the stored one.
    /// @param given The state's `txCount[1]`.
    /// @param stored The channel's stored onchain txCount.
    error StaleOnchainTxCount(uint256 given, uint256 stored);
    /// @notice The state's pending updates were already executed (onchain txCount not raised).
    /// @param given The state's `txCount[1]`.
    /// @param stored The channel's stored onchain txCount (equal to `given`).
    error PendingAlreadyExecuted(uint256 given, uint256 stored);
    /// @notice hub + user balances exceed the channel total.
    /// @param hubBalance The hub's balance (as submitted, or after applying/reverting pending updates).
    /// @param userBalance The user's balance, likewise.
    /// @param total The channel total it must fit (stored, or after the update's deposits and withdrawals).
    error BalancesExceedTotal(uint256 hubBalance, uint256 userBalance, uint256 total);
    /// @notice The hub reserve cannot cover the amount taken from it.
    /// @param requested The amount taken from the reserve (a withdrawal, or the hub-funded deposits).
    /// @param reserve The reserve of that asset before the call.
    error InsufficientReserve(uint256 requested, uint256 reserve);
    /// @notice The channel cannot fund the balances and withdrawals (or the thread's amount).
    /// @param required Balances + withdrawals of an update, or the thread's amount of an asset.
    /// @param available Stored total + deposits, or the channel's stored total of that asset.
    error InsufficientChannelFunds(uint256 required, uint256 available);
    /// @notice `msg.value` differs from the user's pending ETH deposit.
    /// @param sent `msg.value`.
    /// @param expected The state's `pendingWeiUpdates[2]` (user deposit).
    error WrongDepositValue(uint256 sent, uint256 expected);
    /// @notice The token delivered less than the deposit asked for (fee-on-transfer tokens).
    /// @param expected The state's `pendingTokenUpdates[2]` (user deposit).
    /// @param received The rise of the contract's token balance.
    error TokenTransferShortfall(uint256 expected, uint256 received);
    /// @notice The hub's signature is missing, malformed or by another key.
    error InvalidHubSignature();
    /// @notice The user's signature (ECDSA or ERC-1271) is invalid.
    /// @param user The state's user, who should have signed.
    error InvalidUserSignature(address user);
    /// @notice The thread state is not signed by its sender.
    /// @param sender The thread's sender, who should have signed.
    error InvalidThreadSignature(address sender);
    /// @notice The challenge window closed at `closingTime`.
    /// @param closingTime The channel's or thread's closing time.
    /// @param timestamp The block timestamp (at or after `closingTime`).
    error ChallengeWindowClosed(uint256 closingTime, uint256 timestamp);
    /// @notice The challenge window is open until `closingTime`.
    /// @param closingTime The channel's or thread's closing time.
    /// @param timestamp The block timestamp (before `closingTime`).
    error ChallengeWindowOpen(uint256 closingTime, uint256 timestamp);
    /// @notice `nukeThreads` is possible from `nukeTime` on.
    /// @param nukeTime The channel's closing time + 10 × challengePeriod.
    /// @param timestamp The block timestamp (before `nukeTime`).
    error NukeTooEarly(uint256 nukeTime, uint256 timestamp);
    /// @notice Sender equals receiver, or one of them is zero, the hub or this contract.
    /// @param sender The initial state's sender.
    /// @param receiver The initial state's receiver.
    error InvalidThreadParties(address sender, address receiver);
    /// @notice The user named in the call is neither the thread's sender nor its receiver.
    /// @param user The user named in the call.
    error UserNotThreadParty(address user);
    /// @notice An initial thread state must have txCount 0 and zero receiver balances.
    error InvalidInitialThreadState();
    /// @notice The initial thread state is not in the channel's thread root.
    /// @param leaf The initial state's EIP-712 struct hash.
    /// @param root The channel's stored thread root (zero: no thread).
    error ThreadNotInRoot(bytes32 leaf, bytes32 root);
    /// @notice The thread was disputed before; it can never be disputed again.
    /// @param sender The thread's sender.
    /// @param receiver The thread's receiver.
    /// @param threadId The thread's id.
    error ThreadAlreadyDisputed(address sender, address receiver, uint256 threadId);
    /// @notice The thread is not in dispute.
    /// @param sender The thread's sender.
    /// @param receiver The thread's receiver.
    /// @param threadId The thread's id.
    error ThreadNotDisputed(address sender, address receiver, uint256 threadId);
    /// @notice The update names another thread than the initial state, or the initial state is
    ///         not the one the thread's dispute record was started from (its sums differ).
    error ThreadMismatch();
    /// @notice The thread update changes the sum of an asset.
    error ThreadSumsChanged();
    /// @notice The thread update raises neither receiver balance above the stored one.
    /// @param weiReceiver The update's receiver ETH balance.
    /// @param tokenReceiver The update's receiver token balance.
    /// @param storedWei The record's receiver ETH balance.
    /// @param storedToken The record's receiver token balance.
    error ThreadStateNotNewer(uint256 weiReceiver, uint256 tokenReceiver, uint256 storedWei, uint256 storedToken);
    /// @notice This side of the thread was already settled.
    /// @param user The channel (sender or receiver) whose side it is.
    error ThreadSideAlreadyEmptied(address user);
    /// @notice The caller has no credit.
    /// @param caller The caller (`msg.sender`).
    error NothingToClaim(address caller);
    /// @notice A transfer that must succeed failed.
    /// @param to The recipient that refused it (or whose token transfer failed).
    error TransferFailed(address to);
    /// @notice The recipient of a withdrawal or claim is the contract itself (or zero, for claim).
    /// @param recipient The state's `recipient`, or `claim`'s `to`.
    error InvalidRecipient(address recipient);
    /// @notice An amount above 2^128 − 1, a thread's initial sender balance above 2^96 − 1, or a
    ///         counter above 2^64 − 1 (threadCount: 2^32 − 1) (storage packing).
    /// @param value The first value (in the order checked) that does not fit.
    error ValueTooLarge(uint256 value);

    // ------------------------------------------------------------------ hub reserve

    /// @notice Withdraw ETH and tokens from the hub reserve to the hub.
    /// @dev Hub only; each amount at most the reserve (`InsufficientReserve`).
    /// @param weiAmount ETH to withdraw.
    /// @param tokenAmount Tokens to withdraw.
    function hubContractWithdraw(uint256 weiAmount, uint256 tokenAmount) external;

    // ------------------------------------------------------------------ authorized updates

    /// @notice Execute a user-signed state's pending updates; deposits come from the reserve.
    /// @dev Hub only. Checks and effects of §5; user withdrawals are paid to `recipient`.
    /// @param state The state, signed by the user.
    /// @param sigUser The user's signature (65-byte ECDSA, or ERC-1271 for contract users).
    function hubAuthorizedUpdate(ChannelState calldata state, bytes calldata sigUser) external;

    /// @notice Execute a hub-signed state's pending updates; the user's deposit comes with the call.
    /// @dev By `state.user`. `msg.value` must equal the user's ETH deposit; the user's token
    ///      deposit is pulled (approve first); the hub's deposits come from the reserve as it
    ///      was before this call.
    /// @param state The state, signed by the hub.
    /// @param sigHub The hub's 65-byte signature.
    function userAuthorizedUpdate(ChannelState calldata state, bytes calldata sigHub) external payable;

    // ------------------------------------------------------------------ channel disputes

    /// @notice Start a dispute on the channel's stored state.
    /// @dev By hub or user; channel `Open`. The other party has `challengePeriod` to answer.
    /// @param user The channel's user.
    function startExit(address user) external;

    /// @notice Start a dispute with a double-signed state newer than the stored one.
    /// @dev By hub or user; state without timeout. Pending updates are applied when
    ///      `txCount[1]` equals the stored onchain count, reverted when it is greater.
    /// @param state The state, signed by both.
    /// @param sigHub The hub's signature.
    /// @param sigUser The user's signature.
    function startExitWithUpdate(ChannelState calldata state, bytes calldata sigHub, bytes calldata sigUser)
        external;

    /// @notice Answer a running dispute with a newer double-signed state and empty the channel.
    /// @dev By the non-initiating party while `block.timestamp < channelClosingTime`.
    /// @param state The state, signed by both.
    /// @param sigHub The hub's signature.
    /// @param sigUser The user's signature.
    function emptyChannelWithChallenge(ChannelState calldata state, bytes calldata sigHub, bytes calldata sigUser)
        external;

    /// @notice Empty a disputed channel on its stored state.
    /// @dev By anyone once `block.timestamp >= channelClosingTime`; earlier by the
    ///      non-initiating party only.
    /// @param user The channel's user.
    function emptyChannel(address user) external;

    // ------------------------------------------------------------------ threads

    /// @notice Start a thread dispute with the thread's initial state.
    /// @dev By hub or user; the user's channel in `ThreadDispute`; the initial state proven
    ///      against the channel's thread root.
    /// @param user The channel (sender or receiver) the thread is proven in.
    /// @param initial The thread's initial state.
    /// @param proof Merkle proof of `initial`'s struct hash in the channel's thread root.
    /// @param sig The sender's signature of `initial`.
    function startExitThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata sig)
        external;

    /// @notice Start a thread dispute with the initial state and a later sender-signed state.
    /// @param user The channel (sender or receiver) the thread is proven in.
    /// @param initial The thread's initial state.
    /// @param proof Merkle proof of `initial` in the channel's thread root.
    /// @param sigInitial The sender's signature of `initial`.
    /// @param update A later state of the same thread.
    /// @param sigUpdate The sender's signature of `update`.
    function startExitThreadWithUpdate(
        address user,
        ThreadState calldata initial,
        bytes32[] calldata proof,
        bytes calldata sigInitial,
        ThreadState calldata update,
        bytes calldata sigUpdate
    ) external;

    /// @notice Answer a running thread dispute with a sender-signed state that pays the receiver more.
    /// @dev By hub, sender or receiver while `block.timestamp < threadClosingTime`. Receiver
    ///      balances, not txCount, order thread states (§8): the update must raise the stored
    ///      receiver balance of at least one asset (`ThreadStateNotNewer`); each asset keeps the
    ///      higher of stored and submitted. The record's txCount becomes the highest shown
    ///      (saturated at 2^64 − 1) and decides nothing.
    /// @param update The newer thread state.
    /// @param sig The sender's signature of `update`.
    function challengeThread(ThreadState calldata update, bytes calldata sig) external;

    /// @notice Settle `user`'s side of a disputed thread after its window closed.
    /// @dev By hub or user. `initial` must be the state the dispute record was started from
    ///      (`ThreadMismatch`). Removes the thread's whole amount from the channel, pays the user
    ///      its side and returns the other side to the reserve; when this was the channel's last
    ///      thread, whatever else the channel holds is paid to the user too (§8).
    /// @param user The channel (sender or receiver) to settle.
    /// @param initial The thread's initial state.
    /// @param proof Merkle proof of `initial` in the channel's thread root.
    /// @param sig Not checked (kept for compatibility): the record's creation checked the
    ///        sender's signature, so a sender cannot block settlement by revoking it later.
    function emptyThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata sig)
        external;

    /// @notice Pay out and reopen a channel whose thread disputes were not settled in time.
    /// @dev By anyone once `block.timestamp >= channelClosingTime + 10 * challengePeriod`.
    /// @param user The channel's user.
    function nukeThreads(address user) external;

    // ------------------------------------------------------------------ credits

    /// @notice Pay the caller's credited (refused) payouts to `to`.
    /// @dev `to` must be neither zero nor the contract (`InvalidRecipient`).
    /// @param to Where the ETH and tokens go.
    function claim(address to) external;

    // ------------------------------------------------------------------ views

    /// @notice The hub address.
    function hub() external view returns (address);

    /// @notice The challenge period in seconds.
    function challengePeriod() external view returns (uint256);

    /// @notice The one ERC20 token channels hold.
    function approvedToken() external view returns (address);

    /// @notice Sum of every channel's ETH total.
    function totalChannelWei() external view returns (uint256);

    /// @notice Sum of every channel's token total.
    function totalChannelToken() external view returns (uint256);

    /// @notice ETH not owed to channels or credits; never reverts.
    function getHubReserveWei() external view returns (uint256);

    /// @notice Tokens not owed to channels or credits; never reverts.
    function getHubReserveTokens() external view returns (uint256);

    /// @notice Stored balances of `user`'s channel.
    /// @param user The channel's user.
    /// @return weiHub Hub's ETH.
    /// @return weiUser User's ETH.
    /// @return weiTotal ETH locked in the channel, threads included.
    /// @return tokenHub Hub's tokens.
    /// @return tokenUser User's tokens.
    /// @return tokenTotal Tokens locked in the channel, threads included.
    function getChannelBalances(address user)
        external
        view
        returns (
            uint256 weiHub,
            uint256 weiUser,
            uint256 weiTotal,
            uint256 tokenHub,
            uint256 tokenUser,
            uint256 tokenTotal
        );

    /// @notice Stored counters and dispute data of `user`'s channel.
    /// @param user The channel's user.
    /// @return txCountGlobal Stored global txCount.
    /// @return txCountChain Stored onchain txCount.
    /// @return threadRoot Root of the open threads' initial states.
    /// @return threadCount Number of open threads.
    /// @return exitInitiator Who started the running dispute, zero otherwise.
    /// @return channelClosingTime End of the challenge window (kept in ThreadDispute).
    /// @return status The channel's status.
    function getChannelDetails(address user)
        external
        view
        returns (
            uint256 txCountGlobal,
            uint256 txCountChain,
            bytes32 threadRoot,
            uint256 threadCount,
            address exitInitiator,
            uint256 channelClosingTime,
            Status status
        );

    /// @notice A thread's dispute record.
    /// @param sender The thread's sender.
    /// @param receiver The thread's receiver.
    /// @param threadId The thread's id.
    /// @return weiBalances `[sender, receiver]` ETH: the receiver's is the highest any state shown
    ///         gave it, the sender's the rest; their sum is the initial state's (the record's binding).
    /// @return tokenBalances `[sender, receiver]` tokens, likewise per asset.
    /// @return txCount The highest txCount shown (saturated at 2^64 − 1); it decides nothing.
    /// @return threadClosingTime End of the thread's challenge window; zero if never disputed.
    /// @return emptied `[sender side, receiver side]` settled.
    function getThread(address sender, address receiver, uint256 threadId)
        external
        view
        returns (
            uint256[2] memory weiBalances,
            uint256[2] memory tokenBalances,
            uint256 txCount,
            uint256 threadClosingTime,
            bool[2] memory emptied
        );

    /// @notice ETH credited to `user` after a refused payout.
    /// @param user The credited address.
    function creditWei(address user) external view returns (uint256);

    /// @notice Tokens credited to `user` after a refused payout.
    /// @param user The credited address.
    function creditToken(address user) external view returns (uint256);

    /// @notice The EIP-712 digest a channel state is signed over.
    /// @param state The channel state.
    function channelStateDigest(ChannelState calldata state) external view returns (bytes32);

    /// @notice The EIP-712 digest a thread state is signed over.
    /// @param state The thread state.
    function threadStateDigest(ThreadState calldata state) external view returns (bytes32);
}
