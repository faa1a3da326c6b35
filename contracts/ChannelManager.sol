// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IChannelManager} from "../interfaces/IChannelManager.sol";

/// @title ChannelManager — Connext-style payment-channel hub for ETH and one ERC20
/// @notice Holds every channel between one hub and its users; see IChannelManager and docs/protocol.md.
/// @dev Section numbers (§) refer to docs/protocol.md. No owner, no upgrade path, no pause. Every state-changing function is `nonReentrant`
///      and follows checks → effects → interactions; user payouts in disputes never revert
///      (a refused payout is credited, docs/protocol.md §7).
contract ChannelManager is IChannelManager, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ types

    /// @dev Who started a running channel dispute (`exitInitiator` is derived from it).
    enum Initiator {
        None,
        Hub,
        User
    }

    /// @dev One channel in five slots. Invariant in every status: hub + user ≤ total, per asset.
    struct Channel {
        // slot 0 — ETH balances
        uint128 weiHub;
        uint128 weiUser;
        // slot 1 — token balances
        uint128 tokenHub;
        uint128 tokenUser;
        // slot 2 — everything locked in the channel, thread locks included
        uint128 weiTotal;
        uint128 tokenTotal;
        // slot 3 — counters and dispute data; closingTime is kept in ThreadDispute (it dates
        // the nuke deadline) and is zero when Open
        uint64 txCountGlobal;
        uint64 txCountChain;
        uint64 closingTime;
        uint32 threadCount;
        Status status;
        Initiator initiator;
        // slot 4 — root of the open threads' initial states; zero means no thread
        bytes32 threadRoot;
    }

    /// @dev A disputed thread in two slots. Disputed ⇔ closingTime ≠ 0 (set once, never
    ///      cleared). Invariant: sender + receiver = the initial sender balances, per asset, which
    ///      must fit 96 bits (`ValueTooLarge`), so every amount here does. These sums bind the
    ///      record to the one initial state it was started from (with the key they determine
    ///      its leaf), and receiver balances only ever rise (§8).
    struct Thread {
        // slot 0 — written at dispute start: the sender side, the clock and the settled sides.
        // One slot, so a dispute on an initial state writes one fresh slot, not two.
        uint96 weiSender;
        uint96 tokenSender;
        uint48 closingTime;
        bool senderEmptied;
        bool receiverEmptied;
        // slot 1 — zero until a later state raised a receiver balance; txCount is the highest
        // shown (saturated), kept for watchers, deciding nothing
        uint96 weiReceiver;
        uint96 tokenReceiver;
        uint64 txCount;
    }

    /// @dev Credits from refused payouts (docs/protocol.md §7).
    struct Credit {
        uint128 weiAmount;
        uint128 tokenAmount;
    }

    // ------------------------------------------------------------------ constants

    // The EIP-712 type strings of docs/protocol.md §3, exactly (hashed at compile time).
    // solhint-disable-next-line gas-small-strings
    bytes32 private constant CHANNEL_STATE_TYPEHASH = keccak256(
        "ChannelState(address user,address recipient,uint256[2] weiBalances,uint256[2] tokenBalances,uint256[4] pendingWeiUpdates,uint256[4] pendingTokenUpdates,uint256[2] txCount,bytes32 threadRoot,uint256 threadCount,uint256 timeout)"
    );
    // solhint-disable-next-line gas-small-strings
    bytes32 private constant THREAD_STATE_TYPEHASH = keccak256(
        "ThreadState(address sender,address receiver,uint256 threadId,uint256[2] weiBalances,uint256[2] tokenBalances,uint256 txCount)"
    );

    /// @dev Gas forwarded to a dispute payout. Bounded so a gas-burning callee cannot make the
    ///      credit fallback run out of gas: two payouts use at most 200k, so any transaction with
    ///      a 1,000,000 gas limit records the credit.
    uint256 private constant PAYOUT_GAS = 100_000;
    /// @dev Bounds of the configured challenge period (docs/protocol.md §2).
    uint256 private constant MAX_CHALLENGE_PERIOD = 365 days;
    /// @dev Storage widths (`ValueTooLarge` above them): channel amounts and totals, txCounts and
    ///      threadCount of a channel, and a thread's amounts (two-slot thread records).
    uint256 private constant MAX_AMOUNT = type(uint128).max;
    uint256 private constant MAX_TX_COUNT = type(uint64).max;
    uint256 private constant MAX_THREAD_COUNT = type(uint32).max;
    uint256 private constant MAX_THREAD_AMOUNT = type(uint96).max;
    /// @dev Threads may be nuked this many challenge periods after the channel's closing time.
    uint256 private constant NUKE_PERIODS = 10;

    // ------------------------------------------------------------------ immutables

    /// @inheritdoc IChannelManager
    address public immutable hub;
    /// @inheritdoc IChannelManager
    uint256 public immutable challengePeriod;
    /// @inheritdoc IChannelManager
    address public immutable approvedToken;

    // ------------------------------------------------------------------ storage

    /// @dev Σ channel totals, per asset (one slot).
    uint128 private _totalChannelWei;
    uint128 private _totalChannelToken;
    /// @dev Σ unclaimed credits, per asset (one slot). Never reserve.
    uint128 private _totalCreditWei;
    uint128 private _totalCreditToken;

    /// @dev Every address has a channel: Open and empty until first used.
    mapping(address user => Channel channel) private _channels;
    /// @dev Disputed threads by `_threadKey(sender, receiver, threadId)`; never deleted.
    // Written through `Thread storage` pointers, which slither's detector does not follow.
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 threadKey => Thread thread) private _threads;
    /// @dev Refused dispute payouts, claimable by the user (§7).
    mapping(address user => Credit credit) private _credits;

    // ------------------------------------------------------------------ modifiers

    modifier onlyHub() {
        if (msg.sender != hub) revert NotHub(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ constructor

    /// @notice Fixes the hub, the challenge period and the token for the contract's life.
    /// @param hub_ The hub address (non-zero).
    /// @param challengePeriod_ Seconds a dispute stays open, 1 s to 365 days.
    /// @param approvedToken_ The ERC20 channels hold (must have code).
    constructor(address hub_, uint256 challengePeriod_, address approvedToken_) EIP712("ChannelManager", "1") {
        _requireConfiguration(hub_, challengePeriod_, approvedToken_);
        hub = hub_;
        challengePeriod = challengePeriod_;
        approvedToken = approvedToken_;
    }

    /// @notice ETH sent here becomes hub reserve.
    receive() external payable nonReentrant {}

    // ------------------------------------------------------------------ hub reserve

    /// @inheritdoc IChannelManager
    function hubContractWithdraw(uint256 weiAmount, uint256 tokenAmount) external nonReentrant onlyHub {
        if (weiAmount != 0) _requireReserveCovers(weiAmount, _reserveWei(0));
        if (tokenAmount != 0) _requireReserveCovers(tokenAmount, _reserveTokens());
        emit DidHubContractWithdraw(weiAmount, tokenAmount);
        if (weiAmount != 0) _sendEthOrRevert(msg.sender, weiAmount);
        if (tokenAmount != 0) _sendTokenOrRevert(msg.sender, tokenAmount);
    }

    // ------------------------------------------------------------------ authorized updates

    /// @inheritdoc IChannelManager
    function hubAuthorizedUpdate(ChannelState calldata state, bytes calldata sigUser) external nonReentrant onlyHub {
        Channel memory channel = _loadChannel(state.user, Status.Open);
        _requireRecipient(state.recipient, true);
        _requireAuthorizedUpdate(channel, state);
        // Both deposits come from the reserve.
        _requireReserve(
            state.pendingWeiUpdates[0] + state.pendingWeiUpdates[2],
            state.pendingTokenUpdates[0] + state.pendingTokenUpdates[2],
            0,
            false
        );
        _requireChannelFunds(channel, state);
        _requireUserSignature(state.user, _channelDigest(state), sigUser);

        _applyAuthorizedUpdate(channel, state);
        _payRecipient(state);
    }

    /// @inheritdoc IChannelManager
    function userAuthorizedUpdate(ChannelState calldata state, bytes calldata sigHub)
        external
        payable
        nonReentrant
    {
        _requireCallerIsUser(state.user);
        Channel memory channel = _loadChannel(state.user, Status.Open);
        _requireRecipient(state.recipient, true);
        _requireDepositValue(msg.value, state.pendingWeiUpdates[2]);
        _requireAuthorizedUpdate(channel, state);
        // Only the hub's deposits come from the reserve, measured before this call: the user's
        // msg.value and pulled tokens are never reserve (v1 let them back a hub deposit).
        uint256 tokenBalanceBefore = _requireReserve(
            state.pendingWeiUpdates[0], state.pendingTokenUpdates[0], msg.value, state.pendingTokenUpdates[2] != 0
        );
        _requireChannelFunds(channel, state);
        _requireHubSignature(_channelDigest(state), sigHub);

        _applyAuthorizedUpdate(channel, state);
        uint256 tokenDeposit = state.pendingTokenUpdates[2];
        if (tokenDeposit != 0) _pullExactly(tokenDeposit, tokenBalanceBefore);
        _payRecipient(state);
    }

    // ------------------------------------------------------------------ channel disputes

    /// @inheritdoc IChannelManager
    function startExit(address user) external nonReentrant {
        Channel memory channel = _loadChannel(user, Status.Open);
        _requireHubOrUser(user);
        _startDispute(user, channel, false);
    }

    /// @inheritdoc IChannelManager
    function startExitWithUpdate(ChannelState calldata state, bytes calldata sigHub, bytes calldata sigUser)
        external
        nonReentrant
    {
        Channel memory channel = _loadChannel(state.user, Status.Open);
        _requireHubOrUser(state.user);
        _adoptDisputeState(channel, state, sigHub, sigUser);
        _startDispute(state.user, channel, true);
    }

    /// @inheritdoc IChannelManager
    function emptyChannelWithChallenge(ChannelState calldata state, bytes calldata sigHub, bytes calldata sigUser)
        external
        nonReentrant
    {
        address user = state.user;
        Channel memory channel = _loadChannel(user, Status.ChannelDispute);
        _requireHubOrUser(user);
        _requireNotInitiator(channel);
        _requireWindowOpen(channel.closingTime);
        _adoptDisputeState(channel, state, sigHub, sigUser);
        _emptyChannel(user, channel, true);
    }

    /// @inheritdoc IChannelManager
    function emptyChannel(address user) external nonReentrant {
        Channel memory channel = _loadChannel(user, Status.ChannelDispute);
        // Before the deadline only the party that did not start the dispute may concede.
        if (!_isConcedingParty(user, channel)) _requireWindowClosed(channel.closingTime);
        _emptyChannel(user, channel, false);
    }

    // ------------------------------------------------------------------ threads

    /// @inheritdoc IChannelManager
    function startExitThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata sig)
        external
        nonReentrant
    {
        bytes32 key = _requireProvenThread(user, initial, proof, sig);
        Thread storage thread = _threads[key];
        // Slot 1 of a thread never disputed is all zeros: an initial state leaves it untouched.
        thread.weiSender = uint96(initial.weiBalances[0]);
        thread.tokenSender = uint96(initial.tokenBalances[0]);
        _openThreadDispute(user, thread, initial, initial.weiBalances, initial.tokenBalances, 0);
    }

    /// @inheritdoc IChannelManager
    function startExitThreadWithUpdate(
        address user,
        ThreadState calldata initial,
        bytes32[] calldata proof,
        bytes calldata sigInitial,
        ThreadState calldata update,
        bytes calldata sigUpdate
    ) external nonReentrant {
        bytes32 key = _requireProvenThread(user, initial, proof, sigInitial);
        _requireThreadMatch(
            update.sender == initial.sender && update.receiver == initial.receiver && update.threadId == initial.threadId
        );
        _startWithUpdate(user, key, update, sigUpdate, initial.weiBalances[0], initial.tokenBalances[0]);
    }

    /// @inheritdoc IChannelManager
    function challengeThread(ThreadState calldata update, bytes calldata sig) external nonReentrant {
        _requireThreadParty(update);
        Thread storage thread = _threads[_threadKey(update.sender, update.receiver, update.threadId)];
        uint256 closingTime = thread.closingTime;
        _requireThreadDisputed(closingTime, update);
        _requireWindowOpen(closingTime);
        uint256 storedWei = thread.weiReceiver;
        uint256 storedToken = thread.tokenReceiver;
        uint256 weiSum;
        uint256 tokenSum;
        unchecked {
            // Both terms are 96-bit fields.
            weiSum = thread.weiSender + storedWei;
            tokenSum = thread.tokenSender + storedToken;
        }
        (uint256 weiReceiver, uint256 tokenReceiver) =
            _requireReceiverRaise(update, weiSum, tokenSum, storedWei, storedToken);
        _requireThreadSignature(update.sender, _threadStructHash(update), sig);

        uint64 txCount = _saturatedTxCount(update.txCount, thread.txCount);
        _storeThreadRecord(thread, weiSum, tokenSum, weiReceiver, tokenReceiver, txCount);
        // The record as it now stands (per asset the higher receiver balance), not the update.
        emit DidChallengeThread(
            update.sender,
            update.receiver,
            update.threadId,
            msg.sender,
            [weiSum - weiReceiver, weiReceiver],
            [tokenSum - tokenReceiver, tokenReceiver],
            txCount
        );
    }

    /// @inheritdoc IChannelManager
    /// @dev The signature argument is not checked: the record's creation checked the sender's
    ///      signature and the record's sums bind `initial` to it, so a sender cannot block
    ///      settlement by revoking (§8).
    function emptyThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata)
        external
        nonReentrant
    {
        (bytes32 leaf, bytes32 root) = _requireThreadInitial(user, initial);
        _requireInRoot(proof, root, leaf);
        _emptyThreadSide(user, initial);
    }

    /// @inheritdoc IChannelManager
    function nukeThreads(address user) external nonReentrant {
        _requireValidUser(user);
        Channel storage channel = _channels[user];
        _requireStatus(user, channel.status, Status.ThreadDispute);
        _requireNukeTime(channel.closingTime);
        uint128 weiAmount = channel.weiTotal;
        uint128 tokenAmount = channel.tokenTotal;
        unchecked {
            // A global total is the sum of all channel totals, so it is at least this channel's.
            _totalChannelWei -= weiAmount;
            _totalChannelToken -= tokenAmount;
        }
        channel.weiTotal = 0;
        channel.tokenTotal = 0;
        channel.threadRoot = bytes32(0);
        channel.threadCount = 0;
        channel.closingTime = 0;
        channel.status = Status.Open;

        emit DidNukeThreads(user, msg.sender, weiAmount, tokenAmount);
        _payOrCredit(user, weiAmount, tokenAmount);
    }

    // ------------------------------------------------------------------ credits

    /// @inheritdoc IChannelManager
    function claim(address to) external nonReentrant {
        _requireRecipient(to, false);
        Credit memory credit = _credits[msg.sender];
        _requireCredit(credit);
        delete _credits[msg.sender];
        _totalCreditWei -= credit.weiAmount;
        _totalCreditToken -= credit.tokenAmount;
        emit DidClaim(msg.sender, to, credit.weiAmount, credit.tokenAmount);
        // A failed transfer reverts the whole claim, so the credit is kept.
        if (credit.weiAmount != 0) _sendEthOrRevert(to, credit.weiAmount);
        if (credit.tokenAmount != 0) _sendTokenOrRevert(to, credit.tokenAmount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IChannelManager
    function totalChannelWei() external view returns (uint256) {
        return _totalChannelWei;
    }

    /// @inheritdoc IChannelManager
    function totalChannelToken() external view returns (uint256) {
        return _totalChannelToken;
    }

    /// @inheritdoc IChannelManager
    function getHubReserveWei() external view returns (uint256) {
        return _reserveWei(0);
    }

    /// @inheritdoc IChannelManager
    function getHubReserveTokens() external view returns (uint256) {
        return _reserveTokens();
    }

    /// @inheritdoc IChannelManager
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
        )
    {
        Channel storage c = _channels[user];
        return (c.weiHub, c.weiUser, c.weiTotal, c.tokenHub, c.tokenUser, c.tokenTotal);
    }

    /// @inheritdoc IChannelManager
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
        )
    {
        Channel storage c = _channels[user];
        if (c.initiator == Initiator.Hub) exitInitiator = hub;
        else if (c.initiator == Initiator.User) exitInitiator = user;
        return (c.txCountGlobal, c.txCountChain, c.threadRoot, c.threadCount, exitInitiator, c.closingTime, c.status);
    }

    /// @inheritdoc IChannelManager
    function getThread(address sender, address receiver, uint256 threadId)
        external
        view
        returns (
            uint256[2] memory weiBalances,
            uint256[2] memory tokenBalances,
            uint256 txCount,
            uint256 threadClosingTime,
            bool[2] memory emptied
        )
    {
        Thread storage t = _threads[_threadKey(sender, receiver, threadId)];
        weiBalances = [uint256(t.weiSender), t.weiReceiver];
        tokenBalances = [uint256(t.tokenSender), t.tokenReceiver];
        emptied = [t.senderEmptied, t.receiverEmptied];
        return (weiBalances, tokenBalances, t.txCount, t.closingTime, emptied);
    }

    /// @inheritdoc IChannelManager
    function creditWei(address user) external view returns (uint256) {
        return _credits[user].weiAmount;
    }

    /// @inheritdoc IChannelManager
    function creditToken(address user) external view returns (uint256) {
        return _credits[user].tokenAmount;
    }

    /// @inheritdoc IChannelManager
    function channelStateDigest(ChannelState calldata state) external view returns (bytes32) {
        return _channelDigest(state);
    }

    /// @inheritdoc IChannelManager
    function threadStateDigest(ThreadState calldata state) external view returns (bytes32) {
        return _hashTypedDataV4(_threadStructHash(state));
    }

    // ------------------------------------------------------------------ internal: guards
    // One rule, one guard: each guard reverts with one error and each error is raised by one
    // guard, so `grep "revert ErrorName"` finds the rule. The order of the calls is the order of
    // the checks: it decides which error wins when two rules fail (the unit tests pin it).

    function _requireConfiguration(address hub_, uint256 challengePeriod_, address approvedToken_) internal view {
        if (
            hub_ == address(0) || challengePeriod_ == 0 || challengePeriod_ > MAX_CHALLENGE_PERIOD
                || approvedToken_.code.length == 0
        ) revert InvalidConfiguration(hub_, challengePeriod_, approvedToken_);
    }

    function _requireValidUser(address user) internal view {
        if (user == address(0) || user == hub || user == address(this)) revert InvalidUser(user);
    }

    function _requireHubOrUser(address user) internal view {
        if (msg.sender != hub && msg.sender != user) revert NotHubOrUser(msg.sender, user);
    }

    function _requireCallerIsUser(address user) internal view {
        if (msg.sender != user) revert NotUser(msg.sender, user);
    }

    function _requireThreadParty(ThreadState calldata update) internal view {
        if (msg.sender != hub && msg.sender != update.sender && msg.sender != update.receiver) {
            revert NotThreadParty(msg.sender);
        }
    }

    /// @dev Only called once the caller is known to be the hub or the user.
    function _requireNotInitiator(Channel memory channel) internal view {
        if (_callerIsInitiator(channel)) revert CallerIsExitInitiator(msg.sender);
    }

    /// @dev The contract is never a recipient: what it is sent silently becomes hub reserve.
    ///      Zero is refused where nothing would be burnt on purpose (`claim`).
    function _requireRecipient(address recipient, bool zeroAllowed) internal view {
        if (recipient == address(this) || (recipient == address(0) && !zeroAllowed)) {
            revert InvalidRecipient(recipient);
        }
    }

    /// @dev Only called once the caller is known to be the hub or the user.
    function _callerIsInitiator(Channel memory channel) internal view returns (bool) {
        return (msg.sender == hub ? Initiator.Hub : Initiator.User) == channel.initiator;
    }

    /// @dev The hub or the user, and not the one that started the dispute: it may end the
    ///      dispute before the window closes (§6).
    function _isConcedingParty(address user, Channel memory channel) internal view returns (bool) {
        return (msg.sender == hub || msg.sender == user) && !_callerIsInitiator(channel);
    }

    /// @dev A valid user's channel, required to be in status `required`. Callers copy it into
    ///      memory (`Channel memory channel = _loadChannel(...)`): a memory return value would be
    ///      allocated zeroed before the copy (about 300 gas per call).
    function _loadChannel(address user, Status required) internal view returns (Channel storage channel) {
        _requireValidUser(user);
        channel = _channels[user];
        _requireStatus(user, channel.status, required);
    }

    function _requireStatus(address user, Status status, Status required) internal pure {
        if (status != required) revert WrongChannelStatus(user, status);
    }

    /// @dev A challenge window is `[start, closingTime)` (§6, §8): answers are accepted while
    ///      `now < closingTime`, settlement from `now >= closingTime` on (`_requireWindowClosed`).
    function _requireWindowOpen(uint256 closingTime) internal view {
        if (block.timestamp >= closingTime) {
            revert ChallengeWindowClosed(closingTime, block.timestamp);
        }
    }

    /// @dev The other side of `_requireWindowOpen`'s boundary: no gap, no overlap.
    function _requireWindowClosed(uint256 closingTime) internal view {
        if (block.timestamp < closingTime) {
            revert ChallengeWindowOpen(closingTime, block.timestamp);
        }
    }

    /// @dev Threads may be nuked from `closingTime + NUKE_PERIODS × challengePeriod` on (§8).
    function _requireNukeTime(uint256 closingTime) internal view {
        uint256 nukeTime;
        unchecked {
            // closingTime < 2^64 and challengePeriod ≤ 365 days: no overflow.
            nukeTime = closingTime + NUKE_PERIODS * challengePeriod;
        }
        if (block.timestamp < nukeTime) revert NukeTooEarly(nukeTime, block.timestamp);
    }

    /// @dev A timeout of 0 never expires (§3).
    function _requireNotExpired(uint256 timeout) internal view {
        if (timeout != 0 && block.timestamp >= timeout) revert StateExpired(timeout, block.timestamp);
    }

    /// @dev Dispute states carry no timeout (§6).
    function _requireNoTimeout(uint256 timeout) internal pure {
        if (timeout != 0) revert TimeSensitiveState(timeout);
    }

    /// @dev Range checks that make the packed storage lossless: amounts ≤ MAX_AMOUNT, txCounts ≤
    ///      MAX_TX_COUNT, threadCount ≤ MAX_THREAD_COUNT. The values of one width are OR-ed and
    ///      compared once (the OR fits iff each value does), so a valid state costs three
    ///      comparisons; only a state that fails goes through `_requireFits` value by value, to
    ///      name the first offending value (the order channel_manager/model.py uses). Checking
    ///      every value through `_requireFits` would cost about 1,600 gas per signed state.
    function _requireStorable(ChannelState calldata state) internal pure {
        uint256 amounts = state.weiBalances[0] | state.weiBalances[1] | state.tokenBalances[0]
            | state.tokenBalances[1] | state.pendingWeiUpdates[0] | state.pendingWeiUpdates[1]
            | state.pendingWeiUpdates[2] | state.pendingWeiUpdates[3] | state.pendingTokenUpdates[0]
            | state.pendingTokenUpdates[1] | state.pendingTokenUpdates[2] | state.pendingTokenUpdates[3];
        if (
            amounts <= MAX_AMOUNT && (state.txCount[0] | state.txCount[1]) <= MAX_TX_COUNT
                && state.threadCount <= MAX_THREAD_COUNT
        ) return;
        for (uint256 i; i < 2; ++i) {
            _requireFits(state.weiBalances[i], MAX_AMOUNT);
            _requireFits(state.tokenBalances[i], MAX_AMOUNT);
            _requireFits(state.txCount[i], MAX_TX_COUNT);
        }
        for (uint256 i; i < 4; ++i) {
            _requireFits(state.pendingWeiUpdates[i], MAX_AMOUNT);
            _requireFits(state.pendingTokenUpdates[i], MAX_AMOUNT);
        }
        _requireFits(state.threadCount, MAX_THREAD_COUNT);
    }

    function _requireFits(uint256 value, uint256 max) internal pure {
        if (value > max) revert ValueTooLarge(value);
    }

    /// @dev txCount rules shared by every state submission (docs/protocol.md §4).
    function _requireNewerState(Channel memory channel, ChannelState calldata state) internal pure {
        if (state.txCount[0] <= channel.txCountGlobal) revert StaleTxCount(state.txCount[0], channel.txCountGlobal);
        if (state.txCount[1] < channel.txCountChain) {
            revert StaleOnchainTxCount(state.txCount[1], channel.txCountChain);
        }
    }

    /// @dev Pending updates execute exactly once: a state carrying them must raise txCount[1] (§4).
    function _requirePendingNotExecuted(Channel memory channel, ChannelState calldata state) internal pure {
        if (_hasPending(state) && state.txCount[1] == channel.txCountChain) {
            revert PendingAlreadyExecuted(state.txCount[1], channel.txCountChain);
        }
    }

    function _requireBalancesWithinTotals(Channel memory channel, ChannelState calldata state) internal pure {
        _requireWithinTotal(state.weiBalances[0], state.weiBalances[1], channel.weiTotal);
        _requireWithinTotal(state.tokenBalances[0], state.tokenBalances[1], channel.tokenTotal);
    }

    /// @dev Callers pass values below 2^129 (range-checked state balances, or those plus one
    ///      net deposit), so the sum cannot overflow.
    function _requireWithinTotal(uint256 hubBalance, uint256 userBalance, uint256 total) internal pure {
        unchecked {
            if (hubBalance + userBalance > total) revert BalancesExceedTotal(hubBalance, userBalance, total);
        }
    }

    /// @dev The checks of docs/protocol.md §5 that do not depend on who calls.
    function _requireAuthorizedUpdate(Channel memory channel, ChannelState calldata state) internal view {
        _requireNotExpired(state.timeout);
        _requireStorable(state);
        _requireNewerState(channel, state);
        _requirePendingNotExecuted(channel, state);
        _requireBalancesWithinTotals(channel, state);
    }

    /// @dev `sent` is the call's `msg.value` (passed in: only payable callers may read it).
    function _requireDepositValue(uint256 sent, uint256 expected) internal pure {
        if (sent != expected) revert WrongDepositValue(sent, expected);
    }

    /// @dev The reserve as it was before this call covers the deposits taken from it, gross.
    ///      Returns the contract's token balance when it was read (else 0), for the exact-pull check.
    function _requireReserve(
        uint256 weiFromReserve,
        uint256 tokenFromReserve,
        uint256 inFlightWei,
        bool needTokenBalance
    ) internal view returns (uint256 tokenBalance) {
        if (weiFromReserve != 0) _requireReserveCovers(weiFromReserve, _reserveWei(inFlightWei));
        if (tokenFromReserve == 0 && !needTokenBalance) return 0;
        tokenBalance = IERC20(approvedToken).balanceOf(address(this));
        if (tokenFromReserve != 0) {
            uint256 owed = uint256(_totalChannelToken) + _totalCreditToken;
            _requireReserveCovers(tokenFromReserve, tokenBalance > owed ? tokenBalance - owed : 0);
        }
    }

    function _requireReserveCovers(uint256 amount, uint256 reserve) internal pure {
        if (amount > reserve) revert InsufficientReserve(amount, reserve);
    }

    /// @dev stored total + deposits ≥ balances + withdrawals, per asset.
    function _requireChannelFunds(Channel memory channel, ChannelState calldata state) internal pure {
        _requireFunds(channel.weiTotal, state.weiBalances, state.pendingWeiUpdates);
        _requireFunds(channel.tokenTotal, state.tokenBalances, state.pendingTokenUpdates);
    }

    /// @dev Every term is below 2^128 (range-checked, or a stored total), so neither sum of at
    ///      most four terms can overflow.
    function _requireFunds(uint256 total, uint256[2] calldata balances, uint256[4] calldata pending) internal pure {
        unchecked {
            uint256 available = total + pending[0] + pending[2];
            uint256 required = balances[0] + balances[1] + pending[1] + pending[3];
            _requireFundsCover(required, available);
        }
    }

    /// @dev What a channel must pay out (balances and withdrawals, or a thread's amount) is at
    ///      most what it holds.
    function _requireFundsCover(uint256 required, uint256 available) internal pure {
        if (required > available) revert InsufficientChannelFunds(required, available);
    }

    function _requireCredit(Credit memory credit) internal view {
        if (credit.weiAmount == 0 && credit.tokenAmount == 0) revert NothingToClaim(msg.sender);
    }

    /// @dev For transfers that must succeed (withdrawals and claims); dispute payouts credit instead.
    function _requireTransferred(bool ok, address to) internal pure {
        if (!ok) revert TransferFailed(to);
    }

    // ------------------------------------------------------------------ internal: calldata layout
    // ChannelState and ThreadState are static structs: the ABI puts each field at a fixed offset
    // from the struct's calldata start, one 32-byte word per value, fixed arrays inline. The
    // assembly below reads the fields at these offsets (for gas: no copy of the struct into
    // memory); each read is marked `layout: <struct>.<field>` or `<struct>.<first>..<last>`.
    // tests/analysis/test_calldata_layout.py checks this table against the structs of
    // IChannelManager and every marked offset and length against this table.
    //
    //   field                              offset  words
    //   ChannelState.user                   0x000      1
    //   ChannelState.recipient              0x020      1
    //   ChannelState.weiBalances            0x040      2
    //   ChannelState.tokenBalances          0x080      2
    //   ChannelState.pendingWeiUpdates      0x0c0      4
    //   ChannelState.pendingTokenUpdates    0x140      4
    //   ChannelState.txCount                0x1c0      2
    //   ChannelState.threadRoot             0x200      1
    //   ChannelState.threadCount            0x220      1
    //   ChannelState.timeout                0x240      1
    //   ThreadState.sender                  0x000      1
    //   ThreadState.receiver                0x020      1
    //   ThreadState.threadId                0x040      1
    //   ThreadState.weiBalances             0x060      2
    //   ThreadState.tokenBalances           0x0a0      2
    //   ThreadState.txCount                 0x0e0      1
    //
    // Addresses are read through Solidity, which keeps the decoder's check of their upper bits.

    /// @dev EIP-712 struct hash; fixed arrays are hashed as keccak256 of their packed words,
    ///      copied from calldata into scratch memory past the free pointer (not allocated).
    function _channelStructHash(ChannelState calldata s) internal pure returns (bytes32 h) {
        bytes32 typeHash = CHANNEL_STATE_TYPEHASH;
        address user = s.user;
        address recipient = s.recipient;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let t := add(m, 0x160) // scratch for the array words
            calldatacopy(t, add(s, 0x40), 0x40) // layout: ChannelState.weiBalances
            let weiHash := keccak256(t, 0x40)
            calldatacopy(t, add(s, 0x80), 0x40) // layout: ChannelState.tokenBalances
            let tokenHash := keccak256(t, 0x40)
            calldatacopy(t, add(s, 0xc0), 0x80) // layout: ChannelState.pendingWeiUpdates
            let pendingWeiHash := keccak256(t, 0x80)
            calldatacopy(t, add(s, 0x140), 0x80) // layout: ChannelState.pendingTokenUpdates
            let pendingTokenHash := keccak256(t, 0x80)
            calldatacopy(t, add(s, 0x1c0), 0x40) // layout: ChannelState.txCount
            let txCountHash := keccak256(t, 0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), user)
            mstore(add(m, 0x40), recipient)
            mstore(add(m, 0x60), weiHash)
            mstore(add(m, 0x80), tokenHash)
            mstore(add(m, 0xa0), pendingWeiHash)
            mstore(add(m, 0xc0), pendingTokenHash)
            mstore(add(m, 0xe0), txCountHash)
            calldatacopy(add(m, 0x100), add(s, 0x200), 0x60) // layout: ChannelState.threadRoot..timeout
            h := keccak256(m, 0x160)
        }
    }

    /// @dev EIP-712 struct hash of a thread state; of an initial state it is the thread's leaf.
    function _threadStructHash(ThreadState calldata t) internal pure returns (bytes32 h) {
        bytes32 typeHash = THREAD_STATE_TYPEHASH;
        address sender = t.sender;
        address receiver = t.receiver;
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(add(m, 0x60), add(t, 0x60), 0x40) // layout: ThreadState.weiBalances
            let weiHash := keccak256(add(m, 0x60), 0x40)
            calldatacopy(add(m, 0x60), add(t, 0xa0), 0x40) // layout: ThreadState.tokenBalances
            let tokenHash := keccak256(add(m, 0x60), 0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), sender)
            mstore(add(m, 0x40), receiver)
            mstore(add(m, 0x60), calldataload(add(t, 0x40))) // layout: ThreadState.threadId
            mstore(add(m, 0x80), weiHash)
            mstore(add(m, 0xa0), tokenHash)
            mstore(add(m, 0xc0), calldataload(add(t, 0xe0))) // layout: ThreadState.txCount
            h := keccak256(m, 0xe0)
        }
    }

    /// @dev Whether any of the 8 pending words is set.
    function _hasPending(ChannelState calldata s) internal pure returns (bool any) {
        assembly ("memory-safe") {
            let acc := 0
            // layout: ChannelState.pendingWeiUpdates..pendingTokenUpdates
            for { let p := add(s, 0xc0) } lt(p, add(s, 0x1c0)) { p := add(p, 0x20) } {
                acc := or(acc, calldataload(p))
            }
            any := iszero(iszero(acc))
        }
    }

    /// @dev `emit DidUpdateChannel(...)` with the state's fields copied straight from calldata:
    ///      its words from `weiBalances` to `threadCount` (16) are contiguous and already in the
    ///      event's data order, behind `caller`.
    function _emitDidUpdateChannel(ChannelState calldata state) internal {
        bytes32 topic = DidUpdateChannel.selector;
        address user = state.user;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, caller())
            calldatacopy(add(m, 0x20), add(state, 0x40), 0x200) // layout: ChannelState.weiBalances..threadCount
            log2(m, 0x220, topic, user)
        }
    }

    // ------------------------------------------------------------------ internal: signatures

    function _channelDigest(ChannelState calldata state) internal view returns (bytes32) {
        return _hashTypedDataV4(_channelStructHash(state));
    }

    /// @dev The hub signs with its key: 65 bytes, v ∈ {27, 28}, low s, non-zero signer
    ///      (all enforced by ECDSA.tryRecover).
    function _requireHubSignature(bytes32 digest, bytes calldata sig) internal view {
        if (!_isValidKeySignature(hub, digest, sig)) revert InvalidHubSignature();
    }

    /// @dev A key signature first, then ERC-1271 for users with code (§3).
    function _requireUserSignature(address user, bytes32 digest, bytes calldata sig) internal view {
        if (!_isValidSignatureNow(user, digest, sig)) revert InvalidUserSignature(user);
    }

    /// @dev `structHash` is the thread state's (of an initial state: its leaf).
    function _requireThreadSignature(address sender, bytes32 structHash, bytes calldata sig) internal view {
        if (!_isValidSignatureNow(sender, _hashTypedDataV4(structHash), sig)) {
            revert InvalidThreadSignature(sender);
        }
    }

    /// @dev A signature that recovers to the signer is accepted whatever code the address carries;
    ///      only failing that is an address with code asked through ERC-1271 (bytes unchanged).
    ///      Key first, because a signature once given must not be revocable: since EIP-7702 an EOA
    ///      can delegate to code that answers every ERC-1271 query "no" (M-1, §3).
    function _isValidSignatureNow(address signer, bytes32 digest, bytes calldata sig) internal view returns (bool) {
        if (_isValidKeySignature(signer, digest, sig)) return true;
        return signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNow(signer, digest, sig);
    }

    /// @dev ECDSA.tryRecover(bytes) read from calldata: exactly 65 bytes r‖s‖v; tryRecover(v, r, s)
    ///      refuses high s, and v ∉ {27, 28} or a bad signature recovers to zero (refused).
    function _isValidKeySignature(address signer, bytes32 digest, bytes calldata sig) internal pure returns (bool) {
        if (sig.length != 65) return false;
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(sig.offset)
            s := calldataload(add(sig.offset, 0x20))
            v := byte(0, calldataload(add(sig.offset, 0x40)))
        }
        // The third return value is diagnostic detail (the bad s); error code and signer are checked.
        // slither-disable-next-line unused-return
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, v, r, s);
        return err == ECDSA.RecoverError.NoError && recovered == signer;
    }

    // ------------------------------------------------------------------ internal: channel effects

    /// @dev Effects of an authorized update (docs/protocol.md §5); all checks but the post-check done before.
    function _applyAuthorizedUpdate(Channel memory channel, ChannelState calldata state) internal {
        _applyBalances(channel, state);
        channel.txCountGlobal = uint64(state.txCount[0]);
        channel.txCountChain = uint64(state.txCount[1]);
        channel.threadRoot = state.threadRoot;
        channel.threadCount = uint32(state.threadCount);
        _channels[state.user] = channel;
        _emitDidUpdateChannel(state);
    }

    /// @dev Executes the pending updates on balances and totals (channel in memory, globals in
    ///      storage), then the post-check hub + user ≤ new total.
    function _applyBalances(Channel memory channel, ChannelState calldata state) internal {
        (uint256 weiHub, uint256 weiUser) = _settle(state.weiBalances, state.pendingWeiUpdates, true);
        (uint256 tokenHub, uint256 tokenUser) = _settle(state.tokenBalances, state.pendingTokenUpdates, true);
        uint256 weiTotal = _newTotal(channel.weiTotal, state.pendingWeiUpdates);
        uint256 tokenTotal = _newTotal(channel.tokenTotal, state.pendingTokenUpdates);
        _requireWithinTotal(weiHub, weiUser, weiTotal);
        _requireWithinTotal(tokenHub, tokenUser, tokenTotal);
        _requireFits(weiTotal, MAX_AMOUNT);
        _requireFits(tokenTotal, MAX_AMOUNT);

        // Global totals move by the channel's change; a global total above 128 bits is refused.
        // Unchecked: both terms added are below 2^129, and a global total is at least the
        // channel's old total (it is the sum of all channel totals).
        uint256 globalWei;
        uint256 globalToken;
        unchecked {
            globalWei = uint256(_totalChannelWei) + weiTotal - channel.weiTotal;
            globalToken = uint256(_totalChannelToken) + tokenTotal - channel.tokenTotal;
        }
        _requireFits(globalWei, MAX_AMOUNT);
        _requireFits(globalToken, MAX_AMOUNT);
        _totalChannelWei = uint128(globalWei);
        _totalChannelToken = uint128(globalToken);

        channel.weiHub = uint128(weiHub);
        channel.weiUser = uint128(weiUser);
        channel.tokenHub = uint128(tokenHub);
        channel.tokenUser = uint128(tokenUser);
        channel.weiTotal = uint128(weiTotal);
        channel.tokenTotal = uint128(tokenTotal);
    }

    /// @dev Checks and effects shared by startExitWithUpdate and emptyChannelWithChallenge:
    ///      adopt a double-signed, timeout-free state into `channel` (memory; caller stores).
    function _adoptDisputeState(
        Channel memory channel,
        ChannelState calldata state,
        bytes calldata sigHub,
        bytes calldata sigUser
    ) internal view {
        _requireNoTimeout(state.timeout);
        _requireStorable(state);
        _requireNewerState(channel, state);
        _requireBalancesWithinTotals(channel, state);
        bytes32 digest = _channelDigest(state);
        _requireHubSignature(digest, sigHub);
        _requireUserSignature(state.user, digest, sigUser);

        // Same onchain count: the pending updates were executed (apply); higher: they were not (revert).
        bool executed = state.txCount[1] == channel.txCountChain;
        (uint256 weiHub, uint256 weiUser) = _settle(state.weiBalances, state.pendingWeiUpdates, executed);
        (uint256 tokenHub, uint256 tokenUser) = _settle(state.tokenBalances, state.pendingTokenUpdates, executed);
        _requireWithinTotal(weiHub, weiUser, channel.weiTotal);
        _requireWithinTotal(tokenHub, tokenUser, channel.tokenTotal);

        channel.weiHub = uint128(weiHub);
        channel.weiUser = uint128(weiUser);
        channel.tokenHub = uint128(tokenHub);
        channel.tokenUser = uint128(tokenUser);
        channel.txCountGlobal = uint64(state.txCount[0]);
        channel.threadRoot = state.threadRoot;
        channel.threadCount = uint32(state.threadCount);
    }

    /// @dev Per-side balances after pending updates were applied (`executed`) or reverted (docs/protocol.md §4).
    ///      Inputs are < 2^128 (checked), so the sums cannot overflow.
    function _settle(uint256[2] calldata balances, uint256[4] calldata pending, bool executed)
        internal
        pure
        returns (uint256 hubBalance, uint256 userBalance)
    {
        unchecked {
            hubBalance = balances[0] + _sideAdjustment(pending[0], pending[1], executed);
            userBalance = balances[1] + _sideAdjustment(pending[2], pending[3], executed);
        }
    }

    /// @dev Each subtraction is guarded by the comparison before it.
    function _sideAdjustment(uint256 deposit, uint256 withdrawal, bool executed) internal pure returns (uint256) {
        unchecked {
            if (deposit > withdrawal) return executed ? deposit - withdrawal : 0;
            return executed ? 0 : withdrawal - deposit;
        }
    }

    /// @dev total + deposits − withdrawals: the terms are below 2^128 (no overflow), and after
    ///      `_requireChannelFunds` total + deposits ≥ balances + withdrawals (no underflow).
    function _newTotal(uint256 total, uint256[4] calldata pending) internal pure returns (uint256) {
        unchecked {
            return total + pending[0] + pending[2] - pending[1] - pending[3];
        }
    }

    /// @dev `adopted`: the channel in memory carries a newly adopted state (store all slots);
    ///      otherwise only slot 3 (closing time, status, initiator) differs from storage.
    function _startDispute(address user, Channel memory channel, bool adopted) internal {
        uint256 closingTime = block.timestamp + challengePeriod;
        channel.closingTime = uint64(closingTime);
        channel.status = Status.ChannelDispute;
        channel.initiator = msg.sender == hub ? Initiator.Hub : Initiator.User;
        if (adopted) {
            _channels[user] = channel;
        } else {
            Channel storage stored = _channels[user];
            stored.closingTime = channel.closingTime;
            stored.status = Status.ChannelDispute;
            stored.initiator = channel.initiator;
        }
        emit DidStartExitChannel(
            user,
            msg.sender,
            [uint256(channel.weiHub), channel.weiUser],
            [uint256(channel.tokenHub), channel.tokenUser],
            [uint256(channel.txCountGlobal), channel.txCountChain],
            channel.threadRoot,
            channel.threadCount,
            closingTime
        );
    }

    /// @dev Pays the user its balances (credit on refusal), returns the hub's to the reserve.
    ///      Whatever is locked in threads stays in the channel for the thread disputes; with no
    ///      thread, the surplus goes to the user and the channel ends empty.
    ///      `adopted`: `channel` carries a newly adopted state (txCount, root, threadCount).
    function _emptyChannel(address user, Channel memory channel, bool adopted) internal {
        uint256 weiHub = channel.weiHub;
        uint256 weiUser = channel.weiUser;
        uint256 tokenHub = channel.tokenHub;
        uint256 tokenUser = channel.tokenUser;
        unchecked {
            // Nothing is stranded (§8, L-1): with no open thread left, the user is paid all the
            // channel holds but the hub's balance, surplus included. hub ≤ total (invariant).
            if (channel.threadCount == 0) {
                weiUser = channel.weiTotal - weiHub;
                tokenUser = channel.tokenTotal - tokenHub;
            }
            // hub + user ≤ total (invariant), and Σ totals = global totals.
            uint128 weiOut = uint128(weiHub + weiUser);
            uint128 tokenOut = uint128(tokenHub + tokenUser);
            channel.weiTotal -= weiOut;
            channel.tokenTotal -= tokenOut;
            _totalChannelWei -= weiOut;
            _totalChannelToken -= tokenOut;
        }
        // Written field by field, and only the fields that change: balances, totals, the
        // dispute data; the counters and the root only when `adopted` (a state adopted by
        // emptyChannelWithChallenge may change them).
        Channel storage stored = _channels[user];
        stored.weiHub = 0;
        stored.weiUser = 0;
        stored.tokenHub = 0;
        stored.tokenUser = 0;
        stored.weiTotal = channel.weiTotal;
        stored.tokenTotal = channel.tokenTotal;
        if (adopted) {
            stored.txCountGlobal = channel.txCountGlobal;
            stored.threadCount = channel.threadCount;
            stored.threadRoot = channel.threadRoot;
        }
        stored.initiator = Initiator.None;
        if (channel.threadCount == 0) {
            stored.status = Status.Open;
            stored.closingTime = 0;
        } else {
            // The closing time stays: it dates the nuke deadline.
            stored.status = Status.ThreadDispute;
        }

        // emit DidEmptyChannel(user, msg.sender, [weiHub, weiUser], [tokenHub, tokenUser],
        //     [txCountGlobal, txCountChain], threadRoot, threadCount) — written as the ABI
        // encoding of its nine static data words, without building three memory arrays.
        bytes32 topic = DidEmptyChannel.selector;
        uint256 txCountGlobal = channel.txCountGlobal;
        uint256 txCountChain = channel.txCountChain;
        bytes32 threadRoot = channel.threadRoot;
        uint256 threadCount = channel.threadCount;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, caller())
            mstore(add(m, 0x20), weiHub)
            mstore(add(m, 0x40), weiUser)
            mstore(add(m, 0x60), tokenHub)
            mstore(add(m, 0x80), tokenUser)
            mstore(add(m, 0xa0), txCountGlobal)
            mstore(add(m, 0xc0), txCountChain)
            mstore(add(m, 0xe0), threadRoot)
            mstore(add(m, 0x100), threadCount)
            log2(m, 0x120, topic, user)
        }
        _payOrCredit(user, weiUser, tokenUser);
    }

    // ------------------------------------------------------------------ internal: thread checks

    function _threadKey(address sender, address receiver, uint256 threadId) internal pure returns (bytes32) {
        return keccak256(abi.encode(sender, receiver, threadId));
    }

    /// @dev Everything startExitThread needs: channel in ThreadDispute, caller, a valid initial
    ///      state signed by its sender and in the user's root, a thread never disputed before.
    function _requireProvenThread(
        address user,
        ThreadState calldata initial,
        bytes32[] calldata proof,
        bytes calldata sig
    ) internal view returns (bytes32 key) {
        (bytes32 leaf, bytes32 root) = _requireThreadInitial(user, initial);
        _requireThreadSignature(initial.sender, leaf, sig);
        _requireInRoot(proof, root, leaf);
        key = _threadKey(initial.sender, initial.receiver, initial.threadId);
        _requireNeverDisputed(key, initial);
    }

    /// @dev Shared by thread exits and emptyThread: the user's channel in ThreadDispute, the
    ///      caller, the parties and a well-formed initial state. Returns its leaf and the root.
    function _requireThreadInitial(address user, ThreadState calldata initial)
        internal
        view
        returns (bytes32 leaf, bytes32 root)
    {
        _requireValidUser(user);
        _requireHubOrUser(user);
        Channel storage channel = _channels[user];
        _requireStatus(user, channel.status, Status.ThreadDispute);
        _requireThreadParties(user, initial.sender, initial.receiver);
        _requireInitialState(initial);
        // Thread amounts are stored in 96 bits (two-slot thread records).
        _requireFits(initial.weiBalances[0], MAX_THREAD_AMOUNT);
        _requireFits(initial.tokenBalances[0], MAX_THREAD_AMOUNT);
        leaf = _threadStructHash(initial);
        root = channel.threadRoot;
    }

    /// @dev Two distinct users (§2 valid users) are the thread's parties, and `user` is one of them.
    function _requireThreadParties(address user, address sender, address receiver) internal view {
        if (
            sender == receiver || sender == address(0) || receiver == address(0) || sender == hub || receiver == hub
                || sender == address(this) || receiver == address(this)
        ) revert InvalidThreadParties(sender, receiver);
        if (user != sender && user != receiver) revert UserNotThreadParty(user);
    }

    /// @dev An initial state pays the receiver nothing yet and starts the thread's count (§8).
    function _requireInitialState(ThreadState calldata initial) internal pure {
        if (initial.txCount != 0 || initial.weiBalances[1] != 0 || initial.tokenBalances[1] != 0) {
            revert InvalidInitialThreadState();
        }
    }

    /// @dev A thread once disputed is never disputed again (its key is raised off-chain, §8).
    function _requireNeverDisputed(bytes32 key, ThreadState calldata initial) internal view {
        if (_threads[key].closingTime != 0) {
            revert ThreadAlreadyDisputed(initial.sender, initial.receiver, initial.threadId);
        }
    }

    /// @dev A thread is in dispute once its record has a closing time (never cleared).
    function _requireThreadDisputed(uint256 closingTime, ThreadState calldata state) internal pure {
        if (closingTime == 0) revert ThreadNotDisputed(state.sender, state.receiver, state.threadId);
    }

    /// @dev `matches`: the update names the initial state's thread (startExitThreadWithUpdate), or
    ///      the initial state is the one the record was started from (emptyThread, H-1).
    function _requireThreadMatch(bool matches) internal pure {
        if (!matches) revert ThreadMismatch();
    }

    /// @dev A zero root contains no thread (v1 skipped the proof then).
    function _requireInRoot(bytes32[] calldata proof, bytes32 root, bytes32 leaf) internal pure {
        if (root == bytes32(0) || !MerkleProof.verifyCalldata(proof, root, leaf)) revert ThreadNotInRoot(leaf, root);
    }

    /// @dev A later thread state (§8): same sums as the record, and a receiver balance of at
    ///      least one asset above the stored one. Returns the new receiver balances, per asset
    ///      the higher of stored and submitted: receiver balances, not txCount, order thread
    ///      states, so a sender cannot void its payments with an unreachable txCount (M-2).
    function _requireReceiverRaise(
        ThreadState calldata update,
        uint256 weiSum,
        uint256 tokenSum,
        uint256 storedWei,
        uint256 storedToken
    ) internal pure returns (uint256 weiReceiver, uint256 tokenReceiver) {
        weiReceiver = update.weiBalances[1];
        tokenReceiver = update.tokenBalances[1];
        // Sums compared without overflow: each balance is bounded by the (96-bit) sum.
        if (
            update.weiBalances[0] > weiSum || update.tokenBalances[0] > tokenSum
                || weiReceiver != weiSum - update.weiBalances[0] || tokenReceiver != tokenSum - update.tokenBalances[0]
        ) revert ThreadSumsChanged();
        if (weiReceiver <= storedWei && tokenReceiver <= storedToken) {
            revert ThreadStateNotNewer(weiReceiver, tokenReceiver, storedWei, storedToken);
        }
        if (weiReceiver < storedWei) weiReceiver = storedWei;
        if (tokenReceiver < storedToken) tokenReceiver = storedToken;
    }

    /// @dev The highest txCount shown, saturated at 2^64 − 1: it decides nothing on chain, so a
    ///      state is never refused for its txCount (a refusal would let a sender sign payments
    ///      the receiver cannot submit).
    function _saturatedTxCount(uint256 given, uint64 stored) internal pure returns (uint64) {
        uint64 txCount = given > type(uint64).max ? type(uint64).max : uint64(given);
        return txCount > stored ? txCount : stored;
    }

    /// @dev emptyThread once the initial state is proven in `user`'s root: the record, bound to
    ///      this initial state, past its window; this side settled, the thread released.
    function _emptyThreadSide(address user, ThreadState calldata initial) internal {
        Thread storage thread = _threads[_threadKey(initial.sender, initial.receiver, initial.threadId)];
        uint256 closingTime = thread.closingTime;
        _requireThreadDisputed(closingTime, initial);
        uint256 weiAmount = initial.weiBalances[0];
        uint256 tokenAmount = initial.tokenBalances[0];
        // Bound to the initial state the record was started from (H-1: two "initial" states for
        // one key, proven in two channels' roots, paid one record's amounts out of the other).
        _requireThreadMatch(
            thread.weiSender + thread.weiReceiver == weiAmount && thread.tokenSender + thread.tokenReceiver == tokenAmount
        );
        _requireWindowClosed(closingTime);

        (uint256 weiPaid, uint256 tokenPaid) = _markSideEmptied(thread, user, user == initial.sender);
        (uint256 threadCount, uint256 weiRest, uint256 tokenRest) = _releaseThread(user, weiAmount, tokenAmount);
        unchecked {
            // Both below 2^129: a side of a 96-bit thread plus what was left of a 128-bit total.
            weiPaid += weiRest;
            tokenPaid += tokenRest;
        }
        emit DidEmptyThread(
            user, initial.sender, initial.receiver, initial.threadId, msg.sender, weiPaid, tokenPaid, threadCount
        );
        _payOrCredit(user, weiPaid, tokenPaid);
    }

    /// @dev Marks `user`'s side of the thread settled, returning what that side is owed.
    function _markSideEmptied(Thread storage thread, address user, bool isSender)
        internal
        returns (uint256 weiPaid, uint256 tokenPaid)
    {
        if (isSender ? thread.senderEmptied : thread.receiverEmptied) revert ThreadSideAlreadyEmptied(user);
        if (isSender) {
            thread.senderEmptied = true;
            return (thread.weiSender, thread.tokenSender);
        }
        thread.receiverEmptied = true;
        return (thread.weiReceiver, thread.tokenReceiver);
    }

    /// @dev The whole thread amount leaves `user`'s channel: the user's side is paid by the
    ///      caller, the other side (locked by the hub in this channel) returns to the reserve.
    ///      When this was the last thread the channel reopens empty: whatever else it held is
    ///      returned as `weiRest`/`tokenRest` for the user (nothing is stranded, §8).
    function _releaseThread(address user, uint256 weiAmount, uint256 tokenAmount)
        internal
        returns (uint256 threadCount, uint256 weiRest, uint256 tokenRest)
    {
        Channel storage channel = _channels[user];
        uint256 weiTotal = channel.weiTotal;
        uint256 tokenTotal = channel.tokenTotal;
        _requireFundsCover(weiAmount, weiTotal);
        _requireFundsCover(tokenAmount, tokenTotal);
        unchecked {
            // Checked above. ThreadDispute is only entered with threadCount > 0 and left at 0,
            // so the count cannot underflow.
            weiRest = weiTotal - weiAmount;
            tokenRest = tokenTotal - tokenAmount;
            threadCount = channel.threadCount - 1;
        }
        if (threadCount == 0) {
            weiAmount = weiTotal;
            tokenAmount = tokenTotal;
            channel.weiTotal = 0;
            channel.tokenTotal = 0;
            channel.threadRoot = bytes32(0);
            channel.threadCount = 0;
            channel.closingTime = 0;
            channel.status = Status.Open;
        } else {
            channel.weiTotal = uint128(weiRest);
            channel.tokenTotal = uint128(tokenRest);
            channel.threadCount = uint32(threadCount);
            weiRest = 0;
            tokenRest = 0;
        }
        unchecked {
            // Global totals ≥ any channel total (Σ invariant), and the amounts are at most it.
            _totalChannelWei -= uint128(weiAmount);
            _totalChannelToken -= uint128(tokenAmount);
        }
    }

    /// @dev The update applied to the initial state exactly as challengeThread would apply it.
    ///      From a zero receiver balance the per-asset maxima are the update's own balances.
    function _startWithUpdate(
        address user,
        bytes32 key,
        ThreadState calldata update,
        bytes calldata sig,
        uint256 weiSum,
        uint256 tokenSum
    ) internal {
        (uint256 weiReceiver, uint256 tokenReceiver) = _requireReceiverRaise(update, weiSum, tokenSum, 0, 0);
        _requireThreadSignature(update.sender, _threadStructHash(update), sig);
        Thread storage thread = _threads[key];
        uint64 txCount = _saturatedTxCount(update.txCount, 0);
        _storeThreadRecord(thread, weiSum, tokenSum, weiReceiver, tokenReceiver, txCount);
        _openThreadDispute(user, thread, update, update.weiBalances, update.tokenBalances, txCount);
    }

    /// @dev Starts the thread's clock and logs the record as stored.
    function _openThreadDispute(
        address user,
        Thread storage thread,
        ThreadState calldata state,
        uint256[2] calldata weiBalances,
        uint256[2] calldata tokenBalances,
        uint256 txCount
    ) internal {
        uint256 closingTime = block.timestamp + challengePeriod;
        // Below 2^48 for millions of years (timestamp + at most 365 days).
        thread.closingTime = uint48(closingTime);
        emit DidStartExitThread(
            user,
            state.sender,
            state.receiver,
            state.threadId,
            msg.sender,
            weiBalances,
            tokenBalances,
            txCount,
            closingTime
        );
    }

    /// @dev Writes a thread record: sender = sum − receiver per asset. Every amount is at most a
    ///      sum, which is at most 2^96 − 1 (checked on the initial state), so the casts are exact.
    function _storeThreadRecord(
        Thread storage thread,
        uint256 weiSum,
        uint256 tokenSum,
        uint256 weiReceiver,
        uint256 tokenReceiver,
        uint64 txCount
    ) internal {
        unchecked {
            thread.weiSender = uint96(weiSum - weiReceiver);
            thread.tokenSender = uint96(tokenSum - tokenReceiver);
        }
        thread.weiReceiver = uint96(weiReceiver);
        thread.tokenReceiver = uint96(tokenReceiver);
        thread.txCount = txCount;
    }

    // ------------------------------------------------------------------ internal: money

    /// @dev ETH not owed to channels or credits. `inFlightWei` (a user's msg.value) is excluded:
    ///      it arrived with this call and is not the hub's.
    function _reserveWei(uint256 inFlightWei) internal view returns (uint256) {
        uint256 owed = uint256(_totalChannelWei) + _totalCreditWei + inFlightWei;
        uint256 balance = address(this).balance;
        return balance > owed ? balance - owed : 0;
    }

    /// @dev Token reserve; 0 if the token cannot be read (views must never revert).
    function _reserveTokens() internal view returns (uint256) {
        try IERC20(approvedToken).balanceOf(address(this)) returns (uint256 balance) {
            uint256 owed = uint256(_totalChannelToken) + _totalCreditToken;
            return balance > owed ? balance - owed : 0;
        } catch {
            return 0;
        }
    }

    /// @dev Pulls the user's token deposit and requires the contract received all of it.
    function _pullExactly(uint256 amount, uint256 balanceBefore) internal {
        IERC20 token = IERC20(approvedToken);
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert TokenTransferShortfall(amount, received);
    }

    /// @dev User withdrawals of an authorized update; a failure reverts the whole update.
    function _payRecipient(ChannelState calldata state) internal {
        uint256 weiAmount = state.pendingWeiUpdates[3];
        uint256 tokenAmount = state.pendingTokenUpdates[3];
        if (weiAmount != 0) _sendEthOrRevert(state.recipient, weiAmount);
        if (tokenAmount != 0) _sendTokenOrRevert(state.recipient, tokenAmount);
    }

    function _sendEthOrRevert(address to, uint256 amount) internal {
        (bool ok,) = to.call{value: amount}("");
        _requireTransferred(ok, to);
    }

    /// @dev Token transfer that must succeed (all gas forwarded); same acceptance rule as payouts.
    function _sendTokenOrRevert(address to, uint256 amount) internal {
        _requireTransferred(_sendToken(to, amount, gasleft()), to);
    }

    /// @dev Dispute payout (docs/protocol.md §7): bounded gas, no return data copied, refusals credited.
    function _payOrCredit(address user, uint256 weiAmount, uint256 tokenAmount) internal {
        uint256 weiCredit = 0;
        uint256 tokenCredit = 0;
        if (weiAmount != 0 && !_sendEth(user, weiAmount, PAYOUT_GAS)) weiCredit = weiAmount;
        if (tokenAmount != 0 && !_sendToken(user, tokenAmount, PAYOUT_GAS)) tokenCredit = tokenAmount;
        if (weiCredit != 0 || tokenCredit != 0) {
            Credit storage credit = _credits[user];
            // Credits come out of channel totals (< 2^128 each), so they fit.
            credit.weiAmount += uint128(weiCredit);
            credit.tokenAmount += uint128(tokenCredit);
            _totalCreditWei += uint128(weiCredit);
            _totalCreditToken += uint128(tokenCredit);
            emit DidCreditUser(user, weiCredit, tokenCredit);
        }
    }

    /// @dev ETH transfer that copies no return data (no return bomb).
    function _sendEth(address to, uint256 amount, uint256 gasLimit) internal returns (bool ok) {
        assembly ("memory-safe") {
            ok := call(gasLimit, to, amount, 0, 0, 0, 0)
        }
    }

    /// @dev ERC20 transfer that copies at most one word of return data. Accepts tokens that
    ///      return nothing (the token has code: checked at deployment) or return true.
    function _sendToken(address to, uint256 amount, uint256 gasLimit) internal returns (bool ok) {
        address token = approvedToken;
        bytes4 selector = IERC20.transfer.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), to)
            mstore(add(ptr, 0x24), amount)
            ok := call(gasLimit, token, 0, ptr, 0x44, ptr, 0x20)
            if ok {
                switch returndatasize()
                case 0 { ok := gt(extcodesize(token), 0) }
                default { ok := and(gt(returndatasize(), 0x1f), eq(mload(ptr), 1)) }
            }
        }
    }
}
