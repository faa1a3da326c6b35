// SPDX-License-Identifier: MIT
// FUZZ TARGET ONLY — the interface of the pre-v3 contract (commit 0e20cbd); never deploy.
// Below this header the file is byte for byte interfaces/IChannelManager.sol at commit 0e20cbd.
pragma solidity 0.8.30;

/// @title IChannelManager — the public surface of the payment-channel hub
/// @notice One hub, one channel per user, ETH plus one ERC20, single-hop threads between users.
/// @dev Behaviour is specified in SPEC.md (shared with the project); section numbers below refer
///      to it. Channel balances are `[hub, user]`, thread balances `[sender, receiver]`, pending
///      updates `[hubDeposit, hubWithdrawal, userDeposit, userWithdrawal]`, txCount
///      `[global, onchain]`. Amounts are limited to 128 bits and counters to 64 bits
///      (`ValueTooLarge`) so that a channel fits in five storage slots; a thread's amounts to
///      96 bits, so that a disputed thread fits in two.
interface IChannelManager {
    // ------------------------------------------------------------------ types

    /// @notice Dispute status of a channel (SPEC §2).
    enum Status {
        Open,
        ChannelDispute,
        ThreadDispute
    }

    /// @notice A channel state signed by hub and user (SPEC §3).
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

    /// @notice A thread state signed by its sender (SPEC §3, §8).
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
    event DidHubContractWithdraw(uint256 weiAmount, uint256 tokenAmount);

    /// @notice An authorized update was executed; the fields are the submitted state's.
    /// @dev Stored balances follow from the apply rule (SPEC §4); the totals change by
    ///      deposits − withdrawals. `caller` is the hub or the user.
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
    /// @dev `threadCount > 0` means the channel is now in `ThreadDispute`, else `Open`.
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
    ///      the reserve. `threadCount` is what remains open in the channel.
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
    event DidNukeThreads(address indexed user, address caller, uint256 weiAmount, uint256 tokenAmount);

    /// @notice A payout to `user` was refused and credited instead (SPEC §7).
    event DidCreditUser(address indexed user, uint256 weiAmount, uint256 tokenAmount);

    /// @notice `user` claimed its credits to `to`.
    event DidClaim(address indexed user, address indexed to, uint256 weiAmount, uint256 tokenAmount);

    // ------------------------------------------------------------------ errors

    /// @notice Constructor arguments out of range: zero hub, token without code, or a challenge
    ///         period outside `[1, 365 days]`.
    error InvalidConfiguration(address hub, uint256 challengePeriod, address approvedToken);
    /// @notice Only the hub may call this.
    error NotHub(address caller);
    /// @notice Only the hub or the channel's user may call this.
    error NotHubOrUser(address caller, address user);
    /// @notice Only the channel's user may call this (userAuthorizedUpdate).
    error NotUser(address caller, address user);
    /// @notice Only the hub, the thread's sender or its receiver may call this.
    error NotThreadParty(address caller);
    /// @notice The user is zero, the hub or this contract.
    error InvalidUser(address user);
    /// @notice The channel is not in the status this call needs.
    error WrongChannelStatus(address user, Status status);
    /// @notice The exit initiator may not answer or end its own dispute early.
    error CallerIsExitInitiator(address caller);
    /// @notice The state's timeout has passed (`block.timestamp >= timeout`).
    error StateExpired(uint256 timeout, uint256 timestamp);
    /// @notice A state with a timeout cannot be used in a dispute.
    error TimeSensitiveState(uint256 timeout);
    /// @notice The state's global txCount is not above the stored one.
    error StaleTxCount(uint256 given, uint256 stored);
    /// @notice The state's onchain txCount is below the stored one.
    error StaleOnchainTxCount(uint256 given, uint256 stored);
    /// @notice The state's pending updates were already executed (onchain txCount not raised).
    error PendingAlreadyExecuted(uint256 given, uint256 stored);
    /// @notice hub + user balances exceed the channel total.
    error BalancesExceedTotal(uint256 hubBalance, uint256 userBalance, uint256 total);
    /// @notice The hub reserve cannot cover the amount taken from it.
    error InsufficientReserve(uint256 requested, uint256 reserve);
    /// @notice The channel cannot fund the balances and withdrawals (or the thread's amount).
    error InsufficientChannelFunds(uint256 required, uint256 available);
    /// @notice `msg.value` differs from the user's pending ETH deposit.
    error WrongDepositValue(uint256 sent, uint256 expected);
    /// @notice The token delivered less than the deposit asked for (fee-on-transfer tokens).
    error TokenTransferShortfall(uint256 expected, uint256 received);
    /// @notice The hub's signature is missing, malformed or by another key.
    error InvalidHubSignature();
    /// @notice The user's signature (ECDSA or ERC-1271) is invalid.
    error InvalidUserSignature(address user);
    /// @notice The thread state is not signed by its sender.
    error InvalidThreadSignature(address sender);
    /// @notice The challenge window closed at `closingTime`.
    error ChallengeWindowClosed(uint256 closingTime, uint256 timestamp);
    /// @notice The challenge window is open until `closingTime`.
    error ChallengeWindowOpen(uint256 closingTime, uint256 timestamp);
    /// @notice `nukeThreads` is possible from `nukeTime` on.
    error NukeTooEarly(uint256 nukeTime, uint256 timestamp);
    /// @notice Sender equals receiver, or one of them is zero, the hub or this contract.
    error InvalidThreadParties(address sender, address receiver);
    /// @notice The user named in the call is neither the thread's sender nor its receiver.
    error UserNotThreadParty(address user);
    /// @notice An initial thread state must have txCount 0 and zero receiver balances.
    error InvalidInitialThreadState();
    /// @notice The initial thread state is not in the channel's thread root.
    error ThreadNotInRoot(bytes32 leaf, bytes32 root);
    /// @notice The thread was disputed before; it can never be disputed again.
    error ThreadAlreadyDisputed(address sender, address receiver, uint256 threadId);
    /// @notice The thread is not in dispute.
    error ThreadNotDisputed(address sender, address receiver, uint256 threadId);
    /// @notice The update names another thread than the initial state.
    error ThreadMismatch();
    /// @notice The thread update's txCount is not above the stored one.
    error ThreadTxCountNotHigher(uint256 given, uint256 stored);
    /// @notice The thread update changes the sum of an asset.
    error ThreadSumsChanged();
    /// @notice The thread update lowers a receiver balance.
    error ReceiverBalanceDecreased();
    /// @notice This side of the thread was already settled.
    error ThreadSideAlreadyEmptied(address user);
    /// @notice The caller has no credit.
    error NothingToClaim(address caller);
    /// @notice A transfer that must succeed failed.
    error TransferFailed(address to);
    /// @notice An amount above 2^128 − 1, a thread's initial sender balance above 2^96 − 1, or a
    ///         counter above 2^64 − 1 (storage packing).
    error ValueTooLarge(uint256 value);

    // ------------------------------------------------------------------ hub reserve

    /// @notice Withdraw ETH and tokens from the hub reserve to the hub.
    /// @dev Hub only; each amount at most the reserve (`InsufficientReserve`).
    /// @param weiAmount ETH to withdraw.
    /// @param tokenAmount Tokens to withdraw.
    function hubContractWithdraw(uint256 weiAmount, uint256 tokenAmount) external;

    // ------------------------------------------------------------------ authorized updates

    /// @notice Execute a user-signed state's pending updates; deposits come from the reserve.
    /// @dev Hub only. Checks and effects of SPEC §5; user withdrawals are paid to `recipient`.
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

    /// @notice Answer a running thread dispute with a newer sender-signed state.
    /// @dev By hub, sender or receiver while `block.timestamp < threadClosingTime`.
    /// @param update The newer thread state.
    /// @param sig The sender's signature of `update`.
    function challengeThread(ThreadState calldata update, bytes calldata sig) external;

    /// @notice Settle `user`'s side of a disputed thread after its window closed.
    /// @dev By hub or user. Removes the thread's whole amount from the channel, pays the user
    ///      its side and returns the other side to the reserve.
    /// @param user The channel (sender or receiver) to settle.
    /// @param initial The thread's initial state.
    /// @param proof Merkle proof of `initial` in the channel's thread root.
    /// @param sig The sender's signature of `initial`.
    function emptyThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata sig)
        external;

    /// @notice Pay out and reopen a channel whose thread disputes were not settled in time.
    /// @dev By anyone once `block.timestamp >= channelClosingTime + 10 * challengePeriod`.
    /// @param user The channel's user.
    function nukeThreads(address user) external;

    // ------------------------------------------------------------------ credits

    /// @notice Pay the caller's credited (refused) payouts to `to`.
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
    /// @return weiBalances `[sender, receiver]` ETH of the newest state shown.
    /// @return tokenBalances `[sender, receiver]` tokens of the newest state shown.
    /// @return txCount The newest state's txCount.
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
