// SPDX-License-Identifier: MIT
// FUZZ TARGET ONLY — the pre-v3 contract with known High/Medium flaws (H-1, M-2, M-1); never deploy.
// Below this header the file is byte for byte contracts/ChannelManager.sol at commit 0e20cbd (protocol
// version 2), kept so the fuzzing engine can show it rediscovers the audit's findings
// (docs/fuzzing-rediscovery.md). Its section references are to the protocol text of that time.
// It lives outside contracts/, so brownie never compiles or deploys it.
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
/// @notice Holds every channel between one hub and its users; see IChannelManager and SPEC.md.
/// @dev No owner, no upgrade path, no pause. Every state-changing function is `nonReentrant`
///      and follows checks → effects → interactions; user payouts in disputes never revert
///      (a refused payout is credited, SPEC §7).
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
    ///      must fit 96 bits (`ValueTooLarge`), so every amount here does.
    struct Thread {
        // slot 0 — written at dispute start: the sender side, the clock and the settled sides.
        // One slot, so a dispute on an initial state writes one fresh slot, not two.
        uint96 weiSender;
        uint96 tokenSender;
        uint48 closingTime;
        bool senderEmptied;
        bool receiverEmptied;
        // slot 1 — zero until a state with txCount > 0 is stored
        uint96 weiReceiver;
        uint96 tokenReceiver;
        uint64 txCount;
    }

    /// @dev Credits from refused payouts (SPEC §7).
    struct Credit {
        uint128 weiAmount;
        uint128 tokenAmount;
    }

    // ------------------------------------------------------------------ constants

    bytes32 private constant CHANNEL_STATE_TYPEHASH = keccak256(
        "ChannelState(address user,address recipient,uint256[2] weiBalances,uint256[2] tokenBalances,uint256[4] pendingWeiUpdates,uint256[4] pendingTokenUpdates,uint256[2] txCount,bytes32 threadRoot,uint256 threadCount,uint256 timeout)"
    );
    bytes32 private constant THREAD_STATE_TYPEHASH = keccak256(
        "ThreadState(address sender,address receiver,uint256 threadId,uint256[2] weiBalances,uint256[2] tokenBalances,uint256 txCount)"
    );

    /// @dev Gas forwarded to a dispute payout. Bounded so a gas-burning callee cannot make the
    ///      credit fallback run out of gas: two payouts use at most 200k, so any transaction with
    ///      a 1,000,000 gas limit records the credit.
    uint256 private constant PAYOUT_GAS = 100_000;
    /// @dev Bounds of the configured challenge period (SPEC §2).
    uint256 private constant MAX_CHALLENGE_PERIOD = 365 days;
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

    mapping(address user => Channel) private _channels;
    // Written through `Thread storage` pointers, which slither's detector does not follow.
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 threadKey => Thread) private _threads;
    mapping(address user => Credit) private _credits;

    // ------------------------------------------------------------------ modifiers

    modifier onlyHub() {
        if (msg.sender != hub) revert NotHub(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ constructor

    /// @param hub_ The hub address (non-zero).
    /// @param challengePeriod_ Seconds a dispute stays open, 1 s to 365 days.
    /// @param approvedToken_ The ERC20 channels hold (must have code).
    constructor(address hub_, uint256 challengePeriod_, address approvedToken_) EIP712("ChannelManager", "1") {
        if (
            hub_ == address(0) || challengePeriod_ == 0 || challengePeriod_ > MAX_CHALLENGE_PERIOD
                || approvedToken_.code.length == 0
        ) revert InvalidConfiguration(hub_, challengePeriod_, approvedToken_);
        hub = hub_;
        challengePeriod = challengePeriod_;
        approvedToken = approvedToken_;
    }

    /// @notice ETH sent here becomes hub reserve.
    receive() external payable nonReentrant {}

    // ------------------------------------------------------------------ hub reserve

    /// @inheritdoc IChannelManager
    function hubContractWithdraw(uint256 weiAmount, uint256 tokenAmount) external nonReentrant onlyHub {
        if (weiAmount != 0) {
            uint256 reserve = _reserveWei(0);
            if (weiAmount > reserve) revert InsufficientReserve(weiAmount, reserve);
        }
        if (tokenAmount != 0) {
            uint256 reserve = _reserveTokens();
            if (tokenAmount > reserve) revert InsufficientReserve(tokenAmount, reserve);
        }
        emit DidHubContractWithdraw(weiAmount, tokenAmount);
        if (weiAmount != 0) _sendEthOrRevert(msg.sender, weiAmount);
        if (tokenAmount != 0) _sendTokenOrRevert(msg.sender, tokenAmount);
    }

    // ------------------------------------------------------------------ authorized updates

    /// @inheritdoc IChannelManager
    function hubAuthorizedUpdate(ChannelState calldata state, bytes calldata sigUser) external nonReentrant onlyHub {
        Channel memory channel = _openChannel(state.user);
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
        if (msg.sender != state.user) revert NotUser(msg.sender, state.user);
        Channel memory channel = _openChannel(state.user);
        if (msg.value != state.pendingWeiUpdates[2]) revert WrongDepositValue(msg.value, state.pendingWeiUpdates[2]);
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
        Channel memory channel = _openChannel(user);
        _requireHubOrUser(user);
        _startDispute(user, channel, false);
    }

    /// @inheritdoc IChannelManager
    function startExitWithUpdate(ChannelState calldata state, bytes calldata sigHub, bytes calldata sigUser)
        external
        nonReentrant
    {
        Channel memory channel = _openChannel(state.user);
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
        Channel memory channel = _disputedChannel(user);
        _requireHubOrUser(user);
        if (_callerIsInitiator(channel)) revert CallerIsExitInitiator(msg.sender);
        if (block.timestamp >= channel.closingTime) revert ChallengeWindowClosed(channel.closingTime, block.timestamp);
        _adoptDisputeState(channel, state, sigHub, sigUser);
        _emptyChannel(user, channel, true);
    }

    /// @inheritdoc IChannelManager
    function emptyChannel(address user) external nonReentrant {
        // `_disputedChannel` written out: copying the channel straight into this frame skips
        // the helper's zeroed return struct (−295 gas per call for +370 bytes of code).
        _requireValidUser(user);
        Channel memory channel = _channels[user];
        if (channel.status != Status.ChannelDispute) revert WrongChannelStatus(user, channel.status);
        // Before the deadline only the party that did not start the dispute may concede.
        if (
            block.timestamp < channel.closingTime
                && ((msg.sender != hub && msg.sender != user) || _callerIsInitiator(channel))
        ) revert ChallengeWindowOpen(channel.closingTime, block.timestamp);
        _emptyChannel(user, channel, false);
    }

    // ------------------------------------------------------------------ threads

    /// @inheritdoc IChannelManager
    function startExitThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata sig)
        external
        nonReentrant
    {
        bytes32 key = _requireProvenThread(user, initial, proof, sig);
        _startThreadDispute(user, key, initial);
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
        if (
            update.sender != initial.sender || update.receiver != initial.receiver
                || update.threadId != initial.threadId
        ) revert ThreadMismatch();
        _requireThreadProgress(update, 0, initial.weiBalances[0], initial.tokenBalances[0], 0, 0);
        _requireThreadSignature(update, sigUpdate);
        _startThreadDispute(user, key, update);
    }

    /// @inheritdoc IChannelManager
    function challengeThread(ThreadState calldata update, bytes calldata sig) external nonReentrant {
        if (msg.sender != hub && msg.sender != update.sender && msg.sender != update.receiver) {
            revert NotThreadParty(msg.sender);
        }
        bytes32 key = _threadKey(update.sender, update.receiver, update.threadId);
        Thread storage thread = _threads[key];
        uint256 closingTime = thread.closingTime;
        if (closingTime == 0) revert ThreadNotDisputed(update.sender, update.receiver, update.threadId);
        if (block.timestamp >= closingTime) revert ChallengeWindowClosed(closingTime, block.timestamp);
        uint256 weiReceiver = thread.weiReceiver;
        uint256 tokenReceiver = thread.tokenReceiver;
        _requireThreadProgress(
            update,
            thread.txCount,
            thread.weiSender + weiReceiver,
            thread.tokenSender + tokenReceiver,
            weiReceiver,
            tokenReceiver
        );
        _requireThreadSignature(update, sig);

        _storeThreadState(thread, update);
        emit DidChallengeThread(
            update.sender,
            update.receiver,
            update.threadId,
            msg.sender,
            update.weiBalances,
            update.tokenBalances,
            update.txCount
        );
    }

    /// @inheritdoc IChannelManager
    function emptyThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata sig)
        external
        nonReentrant
    {
        bytes32 key = _requireThreadInChannel(user, initial, proof, sig);
        Thread storage thread = _threads[key];
        uint256 closingTime = thread.closingTime;
        if (closingTime == 0) revert ThreadNotDisputed(initial.sender, initial.receiver, initial.threadId);
        if (block.timestamp < closingTime) revert ChallengeWindowOpen(closingTime, block.timestamp);

        (uint256 weiPaid, uint256 tokenPaid) = _markSideEmptied(thread, user, user == initial.sender);
        uint256 threadCount = _releaseThread(user, initial.weiBalances[0], initial.tokenBalances[0]);
        emit DidEmptyThread(
            user, initial.sender, initial.receiver, initial.threadId, msg.sender, weiPaid, tokenPaid, threadCount
        );
        _payOrCredit(user, weiPaid, tokenPaid);
    }

    /// @inheritdoc IChannelManager
    function nukeThreads(address user) external nonReentrant {
        _requireValidUser(user);
        Channel storage channel = _channels[user];
        if (channel.status != Status.ThreadDispute) revert WrongChannelStatus(user, channel.status);
        uint256 nukeTime;
        uint128 weiAmount = channel.weiTotal;
        uint128 tokenAmount = channel.tokenTotal;
        unchecked {
            // closingTime < 2^64 and challengePeriod ≤ 365 days: no overflow. A global total is
            // the sum of all channel totals, so it is at least this channel's: no underflow.
            nukeTime = uint256(channel.closingTime) + NUKE_PERIODS * challengePeriod;
            if (block.timestamp < nukeTime) revert NukeTooEarly(nukeTime, block.timestamp);
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
        Credit memory credit = _credits[msg.sender];
        if (credit.weiAmount == 0 && credit.tokenAmount == 0) revert NothingToClaim(msg.sender);
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

    function _requireValidUser(address user) internal view {
        if (user == address(0) || user == hub || user == address(this)) revert InvalidUser(user);
    }

    function _requireHubOrUser(address user) internal view {
        if (msg.sender != hub && msg.sender != user) revert NotHubOrUser(msg.sender, user);
    }

    /// @dev Only called once the caller is known to be the hub or the user.
    function _callerIsInitiator(Channel memory channel) internal view returns (bool) {
        return (msg.sender == hub ? Initiator.Hub : Initiator.User) == channel.initiator;
    }

    /// @dev Loads a valid user's channel and requires it `Open`.
    function _openChannel(address user) internal view returns (Channel memory channel) {
        _requireValidUser(user);
        channel = _channels[user];
        if (channel.status != Status.Open) revert WrongChannelStatus(user, channel.status);
    }

    /// @dev Loads a valid user's channel and requires it in `ChannelDispute`.
    function _disputedChannel(address user) internal view returns (Channel memory channel) {
        _requireValidUser(user);
        channel = _channels[user];
        if (channel.status != Status.ChannelDispute) revert WrongChannelStatus(user, channel.status);
    }

    /// @dev Range checks that make the packed storage lossless.
    function _requireStorable(ChannelState calldata state) internal pure {
        uint256 amounts = state.weiBalances[0] | state.weiBalances[1] | state.tokenBalances[0]
            | state.tokenBalances[1] | state.pendingWeiUpdates[0] | state.pendingWeiUpdates[1]
            | state.pendingWeiUpdates[2] | state.pendingWeiUpdates[3] | state.pendingTokenUpdates[0]
            | state.pendingTokenUpdates[1] | state.pendingTokenUpdates[2] | state.pendingTokenUpdates[3];
        if (
            amounts <= type(uint128).max && (state.txCount[0] | state.txCount[1]) <= type(uint64).max
                && state.threadCount <= type(uint32).max
        ) return;
        // Slow path, only to name the first offending value (same order as before).
        for (uint256 i; i < 2; ++i) {
            _requireFits128(state.weiBalances[i]);
            _requireFits128(state.tokenBalances[i]);
            _requireFits64(state.txCount[i]);
        }
        for (uint256 i; i < 4; ++i) {
            _requireFits128(state.pendingWeiUpdates[i]);
            _requireFits128(state.pendingTokenUpdates[i]);
        }
        // Every other value fits, so threadCount is the one that does not.
        revert ValueTooLarge(state.threadCount);
    }

    function _requireFits128(uint256 value) internal pure {
        if (value > type(uint128).max) revert ValueTooLarge(value);
    }

    function _requireFits64(uint256 value) internal pure {
        if (value > type(uint64).max) revert ValueTooLarge(value);
    }

    /// @dev txCount rules shared by every state submission (SPEC §4).
    function _requireNewerState(Channel memory channel, ChannelState calldata state) internal pure {
        if (state.txCount[0] <= channel.txCountGlobal) revert StaleTxCount(state.txCount[0], channel.txCountGlobal);
        if (state.txCount[1] < channel.txCountChain) {
            revert StaleOnchainTxCount(state.txCount[1], channel.txCountChain);
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

    /// @dev The checks of SPEC §5 that do not depend on who calls.
    function _requireAuthorizedUpdate(Channel memory channel, ChannelState calldata state) internal view {
        if (state.timeout != 0 && block.timestamp >= state.timeout) revert StateExpired(state.timeout, block.timestamp);
        _requireStorable(state);
        _requireNewerState(channel, state);
        if (_hasPending(state) && state.txCount[1] == channel.txCountChain) {
            revert PendingAlreadyExecuted(state.txCount[1], channel.txCountChain);
        }
        _requireBalancesWithinTotals(channel, state);
    }

    /// @dev The reserve as it was before this call covers the deposits taken from it, gross.
    ///      Returns the contract's token balance when it was read (else 0), for the exact-pull check.
    function _requireReserve(
        uint256 weiFromReserve,
        uint256 tokenFromReserve,
        uint256 inFlightWei,
        bool needTokenBalance
    ) internal view returns (uint256 tokenBalance) {
        if (weiFromReserve != 0) {
            uint256 reserve = _reserveWei(inFlightWei);
            if (weiFromReserve > reserve) revert InsufficientReserve(weiFromReserve, reserve);
        }
        if (tokenFromReserve == 0 && !needTokenBalance) return 0;
        tokenBalance = IERC20(approvedToken).balanceOf(address(this));
        if (tokenFromReserve != 0) {
            uint256 owed = uint256(_totalChannelToken) + _totalCreditToken;
            uint256 reserve = tokenBalance > owed ? tokenBalance - owed : 0;
            if (tokenFromReserve > reserve) revert InsufficientReserve(tokenFromReserve, reserve);
        }
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
            if (required > available) revert InsufficientChannelFunds(required, available);
        }
    }

    // ------------------------------------------------------------------ internal: signatures

    function _channelDigest(ChannelState calldata state) internal view returns (bytes32) {
        return _hashTypedDataV4(_channelStructHash(state));
    }

    /// @dev EIP-712 struct hash; fixed arrays are hashed as keccak256 of their packed words.
    ///      The struct is static, so its 19 words sit in calldata in field order; arrays are
    ///      hashed from a copy in scratch memory past the free pointer (not allocated).
    function _channelStructHash(ChannelState calldata s) internal pure returns (bytes32 h) {
        bytes32 typeHash = CHANNEL_STATE_TYPEHASH;
        // Reading the addresses through Solidity keeps the decoder's dirty-bit check.
        address user = s.user;
        address recipient = s.recipient;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let t := add(m, 0x160) // scratch for the array words
            calldatacopy(t, add(s, 0x40), 0x40)
            let weiHash := keccak256(t, 0x40)
            calldatacopy(t, add(s, 0x80), 0x40)
            let tokenHash := keccak256(t, 0x40)
            calldatacopy(t, add(s, 0xc0), 0x80)
            let pendingWeiHash := keccak256(t, 0x80)
            calldatacopy(t, add(s, 0x140), 0x80)
            let pendingTokenHash := keccak256(t, 0x80)
            calldatacopy(t, add(s, 0x1c0), 0x40)
            let txCountHash := keccak256(t, 0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), user)
            mstore(add(m, 0x40), recipient)
            mstore(add(m, 0x60), weiHash)
            mstore(add(m, 0x80), tokenHash)
            mstore(add(m, 0xa0), pendingWeiHash)
            mstore(add(m, 0xc0), pendingTokenHash)
            mstore(add(m, 0xe0), txCountHash)
            calldatacopy(add(m, 0x100), add(s, 0x200), 0x60) // threadRoot, threadCount, timeout
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
            calldatacopy(add(m, 0x60), add(t, 0x60), 0x40)
            let weiHash := keccak256(add(m, 0x60), 0x40)
            calldatacopy(add(m, 0x60), add(t, 0xa0), 0x40)
            let tokenHash := keccak256(add(m, 0x60), 0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), sender)
            mstore(add(m, 0x40), receiver)
            mstore(add(m, 0x60), calldataload(add(t, 0x40))) // threadId
            mstore(add(m, 0x80), weiHash)
            mstore(add(m, 0xa0), tokenHash)
            mstore(add(m, 0xc0), calldataload(add(t, 0xe0))) // txCount
            h := keccak256(m, 0xe0)
        }
    }

    /// @dev The hub signs with its key: 65 bytes, v ∈ {27, 28}, low s, non-zero signer
    ///      (all enforced by ECDSA.tryRecover).
    function _requireHubSignature(bytes32 digest, bytes calldata sig) internal view {
        if (!_isValidKeySignature(hub, digest, sig)) revert InvalidHubSignature();
    }

    /// @dev ERC-1271 for users with code, the hub's rule otherwise.
    function _requireUserSignature(address user, bytes32 digest, bytes calldata sig) internal view {
        if (!_isValidSignatureNow(user, digest, sig)) revert InvalidUserSignature(user);
    }

    function _requireThreadSignature(ThreadState calldata state, bytes calldata sig) internal view {
        bytes32 digest = _hashTypedDataV4(_threadStructHash(state));
        if (!_isValidSignatureNow(state.sender, digest, sig)) {
            revert InvalidThreadSignature(state.sender);
        }
    }

    /// @dev SignatureChecker.isValidSignatureNow without copying a key signature to memory:
    ///      code → ERC-1271 with the bytes unchanged; no code → the key rule below.
    function _isValidSignatureNow(address signer, bytes32 digest, bytes calldata sig) internal view returns (bool) {
        if (signer.code.length != 0) return SignatureChecker.isValidERC1271SignatureNow(signer, digest, sig);
        return _isValidKeySignature(signer, digest, sig);
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

    /// @dev Whether any of the 8 pending words (calldata 0xc0–0x1bf of the static struct) is set.
    function _hasPending(ChannelState calldata s) internal pure returns (bool any) {
        assembly ("memory-safe") {
            let acc := 0
            for { let p := add(s, 0xc0) } lt(p, add(s, 0x1c0)) { p := add(p, 0x20) } {
                acc := or(acc, calldataload(p))
            }
            any := iszero(iszero(acc))
        }
    }

    /// @dev Effects of an authorized update (SPEC §5); all checks but the post-check done before.
    function _applyAuthorizedUpdate(Channel memory channel, ChannelState calldata state) internal {
        _applyBalances(channel, state);
        channel.txCountGlobal = uint64(state.txCount[0]);
        channel.txCountChain = uint64(state.txCount[1]);
        channel.threadRoot = state.threadRoot;
        channel.threadCount = uint32(state.threadCount);
        _channels[state.user] = channel;
        _emitDidUpdateChannel(state);
    }

    /// @dev `emit DidUpdateChannel(...)` with the state's fields copied straight from calldata:
    ///      the state is a static struct, so its words from `weiBalances` to `threadCount`
    ///      (16) are contiguous and already in the event's data order, behind `caller`.
    function _emitDidUpdateChannel(ChannelState calldata state) internal {
        bytes32 topic = DidUpdateChannel.selector;
        address user = state.user;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, caller())
            calldatacopy(add(m, 0x20), add(state, 0x40), 0x200)
            log2(m, 0x220, topic, user)
        }
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
        _requireFits128(weiTotal);
        _requireFits128(tokenTotal);

        // Global totals move by the channel's change; a global total above 128 bits is refused.
        // Unchecked: both terms added are below 2^129, and a global total is at least the
        // channel's old total (it is the sum of all channel totals).
        uint256 globalWei;
        uint256 globalToken;
        unchecked {
            globalWei = uint256(_totalChannelWei) + weiTotal - channel.weiTotal;
            globalToken = uint256(_totalChannelToken) + tokenTotal - channel.tokenTotal;
        }
        _requireFits128(globalWei);
        _requireFits128(globalToken);
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
        if (state.timeout != 0) revert TimeSensitiveState(state.timeout);
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

    /// @dev Per-side balances after pending updates were applied (`executed`) or reverted (SPEC §4).
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
    ///      Whatever is locked in threads stays in the channel for the thread disputes.
    ///      `adopted`: `channel` carries a newly adopted state (txCount, root, threadCount).
    function _emptyChannel(address user, Channel memory channel, bool adopted) internal {
        uint256 weiHub = channel.weiHub;
        uint256 weiUser = channel.weiUser;
        uint256 tokenHub = channel.tokenHub;
        uint256 tokenUser = channel.tokenUser;
        unchecked {
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

    /// @dev Everything startExitThread needs: channel in ThreadDispute, caller, a valid signed
    ///      initial state in the user's root, a thread never disputed before.
    function _requireProvenThread(
        address user,
        ThreadState calldata initial,
        bytes32[] calldata proof,
        bytes calldata sig
    ) internal view returns (bytes32 key) {
        key = _requireThreadInChannel(user, initial, proof, sig);
        if (_threads[key].closingTime != 0) {
            revert ThreadAlreadyDisputed(initial.sender, initial.receiver, initial.threadId);
        }
    }

    /// @dev Shared by thread exits and emptyThread.
    function _requireThreadInChannel(
        address user,
        ThreadState calldata initial,
        bytes32[] calldata proof,
        bytes calldata sig
    ) internal view returns (bytes32 key) {
        _requireValidUser(user);
        _requireHubOrUser(user);
        Channel storage channel = _channels[user];
        if (channel.status != Status.ThreadDispute) revert WrongChannelStatus(user, channel.status);
        address sender = initial.sender;
        address receiver = initial.receiver;
        if (
            sender == receiver || sender == address(0) || receiver == address(0) || sender == hub || receiver == hub
                || sender == address(this) || receiver == address(this)
        ) revert InvalidThreadParties(sender, receiver);
        if (user != sender && user != receiver) revert UserNotThreadParty(user);
        if (initial.txCount != 0 || initial.weiBalances[1] != 0 || initial.tokenBalances[1] != 0) {
            revert InvalidInitialThreadState();
        }
        // Thread amounts are stored in 96 bits (two-slot thread records).
        if (initial.weiBalances[0] > type(uint96).max) revert ValueTooLarge(initial.weiBalances[0]);
        if (initial.tokenBalances[0] > type(uint96).max) revert ValueTooLarge(initial.tokenBalances[0]);

        bytes32 leaf = _threadStructHash(initial);
        if (!_isValidSignatureNow(sender, _hashTypedDataV4(leaf), sig)) {
            revert InvalidThreadSignature(sender);
        }
        // A zero root contains no thread (v1 skipped the proof then).
        bytes32 root = channel.threadRoot;
        if (root == bytes32(0) || !MerkleProof.verifyCalldata(proof, root, leaf)) revert ThreadNotInRoot(leaf, root);
        key = _threadKey(sender, receiver, initial.threadId);
    }

    /// @dev A later thread state: higher txCount, same sums, receiver balances not lower.
    function _requireThreadProgress(
        ThreadState calldata update,
        uint256 storedTxCount,
        uint256 weiSum,
        uint256 tokenSum,
        uint256 weiReceiver,
        uint256 tokenReceiver
    ) internal pure {
        _requireFits64(update.txCount);
        if (update.txCount <= storedTxCount) revert ThreadTxCountNotHigher(update.txCount, storedTxCount);
        // Sums compared without overflow: each balance is bounded by the (≤ 128-bit) sum.
        if (
            update.weiBalances[0] > weiSum || update.tokenBalances[0] > tokenSum
                || update.weiBalances[1] != weiSum - update.weiBalances[0]
                || update.tokenBalances[1] != tokenSum - update.tokenBalances[0]
        ) revert ThreadSumsChanged();
        if (update.weiBalances[1] < weiReceiver || update.tokenBalances[1] < tokenReceiver) {
            revert ReceiverBalanceDecreased();
        }
    }

    /// @dev Marks `user`'s side of the thread settled, returning what that side is owed.
    function _markSideEmptied(Thread storage thread, address user, bool isSender)
        internal
        returns (uint256 weiPaid, uint256 tokenPaid)
    {
        if (isSender) {
            if (thread.senderEmptied) revert ThreadSideAlreadyEmptied(user);
            thread.senderEmptied = true;
            return (thread.weiSender, thread.tokenSender);
        }
        if (thread.receiverEmptied) revert ThreadSideAlreadyEmptied(user);
        thread.receiverEmptied = true;
        return (thread.weiReceiver, thread.tokenReceiver);
    }

    /// @dev The whole thread amount leaves `user`'s channel: the user's side is paid by the
    ///      caller, the other side (locked by the hub in this channel) returns to the reserve.
    ///      Reopens the channel when its last thread is settled. Returns the threads left.
    function _releaseThread(address user, uint256 weiAmount, uint256 tokenAmount)
        internal
        returns (uint256 threadCount)
    {
        Channel storage channel = _channels[user];
        uint256 weiTotal = channel.weiTotal;
        uint256 tokenTotal = channel.tokenTotal;
        if (weiAmount > weiTotal) revert InsufficientChannelFunds(weiAmount, weiTotal);
        if (tokenAmount > tokenTotal) revert InsufficientChannelFunds(tokenAmount, tokenTotal);
        unchecked {
            // Checked above; global totals ≥ any channel total (Σ invariant).
            channel.weiTotal = uint128(weiTotal - weiAmount);
            channel.tokenTotal = uint128(tokenTotal - tokenAmount);
            _totalChannelWei -= uint128(weiAmount);
            _totalChannelToken -= uint128(tokenAmount);
        }
        // ThreadDispute is only entered with threadCount > 0 and left at 0, so this cannot underflow.
        unchecked {
            threadCount = channel.threadCount - 1;
        }
        channel.threadCount = uint32(threadCount);
        if (threadCount == 0) {
            channel.threadRoot = bytes32(0);
            channel.closingTime = 0;
            channel.status = Status.Open;
        }
    }

    function _startThreadDispute(address user, bytes32 key, ThreadState calldata state) internal {
        Thread storage thread = _threads[key];
        uint256 closingTime = block.timestamp + challengePeriod;
        _storeThreadState(thread, state);
        // Below 2^48 for millions of years (timestamp + at most 365 days).
        thread.closingTime = uint48(closingTime);
        emit DidStartExitThread(
            user,
            state.sender,
            state.receiver,
            state.threadId,
            msg.sender,
            state.weiBalances,
            state.tokenBalances,
            state.txCount,
            closingTime
        );
    }

    /// @dev Balances fit 96 bits: each is bounded by the initial sender balance (checked).
    ///      A state with txCount 0 is an initial state (receiver balances zero, checked), and
    ///      slot 1 of a thread not yet stored is all zeros: it is left untouched then. Every
    ///      later state has txCount > 0 (checked), so it is written in full.
    function _storeThreadState(Thread storage thread, ThreadState calldata state) internal {
        thread.weiSender = uint96(state.weiBalances[0]);
        thread.tokenSender = uint96(state.tokenBalances[0]);
        if (state.txCount != 0) {
            thread.weiReceiver = uint96(state.weiBalances[1]);
            thread.tokenReceiver = uint96(state.tokenBalances[1]);
            thread.txCount = uint64(state.txCount);
        }
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
        if (!ok) revert TransferFailed(to);
    }

    /// @dev Token transfer that must succeed (all gas forwarded); same acceptance rule as payouts.
    function _sendTokenOrRevert(address to, uint256 amount) internal {
        if (!_sendToken(to, amount, gasleft())) revert TransferFailed(to);
    }

    /// @dev Dispute payout (SPEC §7): bounded gas, no return data copied, refusals credited.
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
