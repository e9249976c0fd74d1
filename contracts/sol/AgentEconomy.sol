// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice What the economy needs from the identity registry.
interface IAgentPaymentAddress {
    /// @notice The agent's bound wallet, or its owner when none is bound; reverts for unknown agents.
    function paymentAddress(uint256 agentId) external view returns (address);

    /// @notice The agent's payment address and its owner in one call; reverts for unknown agents.
    function paymentAddressAndOwner(uint256 agentId) external view returns (address wallet, address agentOwner);
}

/// @notice The one question the economy asks a client contract: does the provider's owner co-own it?
/// Safe's `isOwner`, which every agent's Safe answers.
interface IOwnedWallet {
    function isOwner(address owner) external view returns (bool);
}

/// @title Agent economy: payments, escrowed jobs and reputation
/// @notice Agents pay each other directly or through escrowed jobs. A client creates and funds a job
/// in one call; the provider (the agent's payment address) declines or submits a deliverable hash; the
/// client or the job's evaluator completes it (paying the provider minus a capped protocol fee) or
/// rejects it (refunding the client). Anyone may refund a job once it has expired. Reputation is
/// written only when a job settles, so it is bound to paid work: the provider's record (completed,
/// rejected, expired, ratings, earnings, distinct clients) and the client's (completed and paid,
/// rejected, left to expire after delivery), per token. A job between two agents of the same owner,
/// or below the token's minimum value, moves money but counts in neither record; declines never count.
/// @dev Tokens must be plain ERC-20s: tokens that take a fee on transfer or rebase are unsupported. A
/// token can only ever affect the jobs denominated in it, because every job moves its own token only.
/// Payouts that fail (a wallet refusing ETH, a token blocking a recipient) are credited to `owed` for
/// the recipient to withdraw, so no settlement can be blocked and no funds can be stranded. ETH is
/// pushed with a bounded gas stipend (`ETH_PAYOUT_GAS`), so a recipient whose code burns gas costs
/// whoever settles at most that much; what it cannot take within the stipend is owed to it.
contract AgentEconomy is Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Where a job stands. `None` means the job does not exist.
    enum JobStatus {
        None,
        Funded,
        Submitted,
        Completed,
        Rejected,
        Declined,
        Expired
    }

    /// @notice A job, packed into two storage slots (three with an evaluator); settling it clears the
    /// second (token and budget), which are in its events. `sameOwner`: the
    /// provider's owner was the client, or an owner of the client's wallet, when the job was created;
    /// such a job counts in no record.
    struct Job {
        address client;
        uint40 providerId;
        uint40 deadline;
        JobStatus status;
        bool sameOwner;
        address token;
        uint96 budget;
        address evaluator;
    }

    /// @notice An agent's track record as a provider in one token, packed into one slot. The rating
    /// total divided by `completed` is the average rating (every completion carries one); `clients` is
    /// how many distinct clients completed a job with it; `earned` is what it was paid (after fees) and
    /// saturates at its maximum rather than overflow, so it never blocks a settlement.
    struct Reputation {
        uint32 completed;
        uint32 rejected;
        uint32 expired;
        uint32 clients;
        uint40 ratingSum;
        uint88 earned;
    }

    /// @notice A client's record in one token, packed into one slot: jobs it completed (and the
    /// budgets it paid for them, saturating), rejected (itself or through its evaluator) and left to
    /// expire after delivery. `lastProviderId` is the provider of its last counted completion (it
    /// saves a lookup when a client hires the same provider again).
    struct ClientRecord {
        uint32 completed;
        uint32 rejected;
        uint32 expired;
        uint40 lastProviderId;
        uint120 paid;
    }

    /// @dev Per token: protocol fees not yet withdrawn, and the smallest budget that counts in records.
    struct TokenTerms {
        uint160 accruedFees;
        uint96 minJobValue;
    }

    /// @notice The highest protocol fee the owner can ever set, in basis points (5%).
    uint16 public constant MAX_FEE_BPS = 500;
    /// @notice The highest rating a client can give.
    uint8 public constant MAX_RATING = 100;
    /// @notice The longest a job may run before it expires.
    uint256 public constant MAX_JOB_DURATION = 365 days;
    /// @notice Gas forwarded with an ETH payout, besides the 2,300 the EVM adds to a call with value.
    /// A Safe 1.4.1 proxy receiving ETH (it emits `SafeReceived`) needs 6,329 with everything cold;
    /// a recipient that needs more is owed the payout and withdraws it with `withdrawOwed`.
    uint256 public constant ETH_PAYOUT_GAS = 10_000;
    /// @notice Gas a client contract may use to answer `isOwner` when it creates a job.
    uint256 public constant OWNER_CHECK_GAS = 30_000;

    /// @notice The identity registry agents are resolved in.
    IAgentPaymentAddress public immutable identity;
    /// @notice How long after the deadline a submitted job stays open for the client to evaluate.
    uint256 public immutable submissionGrace;

    /// @notice The protocol fee, in basis points of a completed job's budget. Fixed at deployment, so
    /// no one can change the terms of jobs already funded.
    uint16 public immutable feeBps;

    mapping(uint256 jobId => Job) private _jobs;
    mapping(uint256 agentId => mapping(address token => Reputation)) private _reputation;
    mapping(uint256 agentId => address[]) private _reputationTokens;
    mapping(address client => mapping(address token => ClientRecord)) private _clientRecords;
    mapping(uint256 agentId => mapping(address token => mapping(address client => bool))) private _served;
    mapping(address token => TokenTerms) private _terms;
    /// @notice Payouts that could not be delivered and wait for their recipient to withdraw them.
    mapping(address recipient => mapping(address token => uint256)) public owed;

    /// @notice A direct payment from `from` to the agent `toAgentId`.
    event Paid(
        uint256 indexed toAgentId, address indexed from, address indexed token, address to, uint256 amount, bytes32 memo
    );
    /// @notice A job was created and its budget escrowed.
    event JobCreated(
        uint256 indexed jobId,
        address indexed client,
        uint256 indexed providerId,
        address evaluator,
        address token,
        uint256 budget,
        uint256 deadline,
        bytes32 specHash
    );
    /// @notice The provider submitted its deliverable (its content hash).
    event JobSubmitted(uint256 indexed jobId, uint256 indexed providerId, bytes32 deliverableHash);
    /// @notice The job was completed: the provider was paid and rated. In ERC-8004 terms this is the
    /// client's feedback on the provider: value `rating` with 0 decimals, tag "job", `feedbackHash`.
    event JobCompleted(
        uint256 indexed jobId,
        uint256 indexed providerId,
        address indexed client,
        address payee,
        uint256 payout,
        uint256 fee,
        uint8 rating,
        bytes32 feedbackHash
    );
    /// @notice The client or evaluator rejected the deliverable; the client was refunded.
    event JobRejected(uint256 indexed jobId, uint256 indexed providerId, address indexed by, bytes32 reasonHash);
    /// @notice The provider declined the job; the client was refunded.
    event JobDeclined(uint256 indexed jobId, uint256 indexed providerId, bytes32 reasonHash);
    /// @notice The job expired and the client was refunded.
    event JobExpired(uint256 indexed jobId, uint256 indexed providerId, address indexed by, bool afterSubmission);
    /// @notice A payout could not be delivered and was credited to `owed`.
    event PaymentDeferred(address indexed recipient, address indexed token, uint256 amount);
    /// @notice A recipient withdrew what it was owed.
    event OwedWithdrawn(address indexed recipient, address indexed token, uint256 amount);
    /// @notice Protocol fees were withdrawn.
    event FeesWithdrawn(address indexed token, address indexed to, uint256 amount);
    /// @notice The smallest budget in `token` that counts in reputation and client records changed.
    event MinJobValueSet(address indexed token, uint256 minJobValue);

    error EconomyJobNotFound(uint256 jobId);
    error EconomyJobExists(uint256 jobId);
    error EconomyInvalidStatus(uint256 jobId, JobStatus status);
    error EconomyNotProvider(uint256 jobId, address caller);
    error EconomyNotClient(uint256 jobId, address caller);
    error EconomyNotClientOrEvaluator(uint256 jobId, address caller);
    error EconomyNotEvaluator(uint256 jobId, address caller);
    error EconomyDeadlinePassed(uint256 jobId, uint256 deadline);
    error EconomyNotExpired(uint256 jobId, uint256 refundableAfter);
    error EconomyInvalidDeadline(uint256 deadline);
    error EconomyZeroAmount();
    error EconomyAmountTooLarge(uint256 amount);
    error EconomyValueMismatch(uint256 expected, uint256 received);
    error EconomyInvalidRating(uint8 rating);
    error EconomySelfDealing(uint256 providerId, address caller);
    error EconomyInvalidEvaluator(address evaluator);
    error EconomyAgentIdTooLarge(uint256 agentId);
    error EconomyFeeTooHigh(uint16 feeBps, uint16 maxFeeBps);
    error EconomyTransferFailed(address token, address to, uint256 amount);
    error EconomyNothingOwed(address recipient, address token);

    /// @param identity_ The identity registry.
    /// @param submissionGrace_ Seconds a submitted job stays open past its deadline.
    /// @param feeBps_ The initial protocol fee in basis points.
    /// @param initialOwner Who may withdraw protocol fees.
    constructor(IAgentPaymentAddress identity_, uint256 submissionGrace_, uint16 feeBps_, address initialOwner)
        Ownable(initialOwner)
    {
        if (feeBps_ > MAX_FEE_BPS) revert EconomyFeeTooHigh(feeBps_, MAX_FEE_BPS);
        identity = identity_;
        submissionGrace = submissionGrace_;
        feeBps = feeBps_;
    }

    // ------------------------------------------------------------------ direct payments

    /// @notice Pays `amount` of `token` (`address(0)` for ETH, sent as `msg.value`) to the agent's
    /// payment address. ERC-20 payments are pulled from the caller, who must have approved this contract.
    /// ETH goes with the `ETH_PAYOUT_GAS` stipend; a payee that cannot take it within that is owed it.
    /// @param toAgentId The payee agent.
    /// @param token The token, or `address(0)` for ETH.
    /// @param amount How much to pay.
    /// @param memo A hash the payer attaches (an invoice, a message), for the payee's records.
    function pay(uint256 toAgentId, address token, uint256 amount, bytes32 memo) external payable nonReentrant {
        if (amount == 0) revert EconomyZeroAmount();
        address to = identity.paymentAddress(toAgentId);
        emit Paid(toAgentId, msg.sender, token, to, amount, memo);
        if (token == address(0)) {
            if (msg.value != amount) revert EconomyValueMismatch(amount, msg.value);
            _send(token, to, amount);
        } else {
            if (msg.value != 0) revert EconomyValueMismatch(0, msg.value);
            IERC20(token).safeTransferFrom(msg.sender, to, amount);
        }
    }

    // ------------------------------------------------------------------ jobs

    /// @notice Creates a job for the provider agent and escrows its budget in the same call. ERC-20
    /// budgets are pulled from the caller (approve first); ETH budgets come as `msg.value`. The job's id
    /// is `jobIdOf(client, providerId, specHash)`: a retried call with the same specification cannot
    /// fund a second job, and a client knows the id before the transaction lands.
    /// A job between two agents of the same owner (the provider's owner is the client, or an owner of
    /// the client's Safe) is marked `sameOwner` and counts in no record.
    /// @param providerId The agent hired.
    /// @param evaluator Who may judge the delivery besides the client (`address(0)` for none). With an
    /// evaluator, only the evaluator may reject; the client may still complete.
    /// @param token The budget's token, or `address(0)` for ETH.
    /// @param budget The price, paid to the provider (minus the protocol fee) on completion.
    /// @param deadline Unix time by which the provider must submit.
    /// @param specHash Hash of the job's specification, kept off-chain; unique per client and provider.
    /// @return jobId The new job's id.
    function createJob(
        uint256 providerId,
        address evaluator,
        address token,
        uint256 budget,
        uint256 deadline,
        bytes32 specHash
    ) external payable nonReentrant returns (uint256 jobId) {
        if (budget == 0) revert EconomyZeroAmount();
        if (budget > type(uint96).max) revert EconomyAmountTooLarge(budget);
        if (providerId > type(uint40).max) revert EconomyAgentIdTooLarge(providerId);
        if (deadline <= block.timestamp || deadline > block.timestamp + MAX_JOB_DURATION) {
            revert EconomyInvalidDeadline(deadline);
        }
        (address provider, address providerOwner) = identity.paymentAddressAndOwner(providerId);
        if (provider == msg.sender) revert EconomySelfDealing(providerId, msg.sender);
        if (evaluator == provider) revert EconomyInvalidEvaluator(evaluator);

        jobId = jobIdOf(msg.sender, providerId, specHash);
        Job storage job = _jobs[jobId];
        if (job.status != JobStatus.None) revert EconomyJobExists(jobId);
        job.client = msg.sender;
        job.providerId = uint40(providerId);
        job.deadline = uint40(deadline);
        job.status = JobStatus.Funded;
        if (msg.sender == providerOwner || _coOwnedBy(msg.sender, providerOwner)) job.sameOwner = true;
        job.token = token;
        job.budget = uint96(budget);
        if (evaluator != address(0)) job.evaluator = evaluator;

        if (token == address(0)) {
            if (msg.value != budget) revert EconomyValueMismatch(budget, msg.value);
        } else {
            if (msg.value != 0) revert EconomyValueMismatch(0, msg.value);
            IERC20(token).safeTransferFrom(msg.sender, address(this), budget);
        }
        emit JobCreated(jobId, msg.sender, providerId, evaluator, token, budget, deadline, specHash);
    }

    /// @notice The provider submits its deliverable's hash before the deadline.
    /// @dev No reentrancy guard: the only external call is a static call to the identity registry.
    function submitJob(uint256 jobId, bytes32 deliverableHash) external {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Funded) revert EconomyInvalidStatus(jobId, job.status);
        _onlyProvider(jobId, job.providerId);
        if (block.timestamp > job.deadline) revert EconomyDeadlinePassed(jobId, job.deadline);
        job.status = JobStatus.Submitted;
        emit JobSubmitted(jobId, job.providerId, deliverableHash);
    }

    /// @notice The provider turns the job down; the client is refunded at once. A decline counts in
    /// no record: the provider never accepted the job (anyone can fund a job for any agent).
    function declineJob(uint256 jobId, bytes32 reasonHash) external nonReentrant {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Funded) revert EconomyInvalidStatus(jobId, job.status);
        uint256 providerId = job.providerId;
        _onlyProvider(jobId, providerId);
        job.status = JobStatus.Declined;
        address token = job.token;
        uint256 budget = job.budget;
        _clearAmount(job);
        emit JobDeclined(jobId, providerId, reasonHash);
        _send(token, job.client, budget);
    }

    /// @notice The client (or the evaluator) accepts the delivery: the provider's payment address
    /// receives the budget minus the protocol fee. When the job counts, the provider's reputation
    /// records the rating, the payout and (the first time) the client, and the client's record the
    /// completion and the budget paid.
    /// @param rating 0 to 100.
    /// @param feedbackHash Hash of written feedback kept off-chain (may be zero).
    function completeJob(uint256 jobId, uint8 rating, bytes32 feedbackHash) external nonReentrant {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Submitted) revert EconomyInvalidStatus(jobId, job.status);
        address client = job.client;
        if (msg.sender != client && msg.sender != job.evaluator) revert EconomyNotClientOrEvaluator(jobId, msg.sender);
        if (rating > MAX_RATING) revert EconomyInvalidRating(rating);

        job.status = JobStatus.Completed;
        uint256 providerId = job.providerId;
        address token = job.token;
        uint256 budget = job.budget;
        bool counts = !job.sameOwner;
        _clearAmount(job);
        uint256 fee;
        uint256 payout;
        unchecked {
            // budget < 2^96 and feeBps <= 500: no overflow, and fee <= budget.
            fee = budget * feeBps / 10_000;
            payout = budget - fee;
        }
        TokenTerms storage terms = _terms[token];
        // 2^160 is far above any token's supply: fees cannot overflow.
        if (fee != 0) terms.accruedFees += uint160(fee);

        if (counts && budget >= terms.minJobValue) {
            _recordCompletion(providerId, token, client, rating, payout, budget);
        }

        address payee = identity.paymentAddress(providerId);
        emit JobCompleted(jobId, providerId, client, payee, payout, fee, rating, feedbackHash);
        _send(token, payee, payout);
    }

    /// @notice Rejects the delivery and refunds the client. Only the evaluator may reject when the job
    /// has one; otherwise the client. When the job counts, it is a rejection on both records: the
    /// provider's and the client's (whose evaluator it chose).
    function rejectJob(uint256 jobId, bytes32 reasonHash) external nonReentrant {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Submitted) revert EconomyInvalidStatus(jobId, job.status);
        address evaluator = job.evaluator;
        if (evaluator != address(0)) {
            if (msg.sender != evaluator) revert EconomyNotEvaluator(jobId, msg.sender);
        } else if (msg.sender != job.client) {
            revert EconomyNotClient(jobId, msg.sender);
        }
        job.status = JobStatus.Rejected;
        uint256 providerId = job.providerId;
        address client = job.client;
        address token = job.token;
        uint256 budget = job.budget;
        _clearAmount(job);
        if (_counts(job, token, budget)) {
            unchecked {
                _reputationFor(providerId, token).rejected += 1;
                _clientRecords[client][token].rejected += 1;
            }
        }
        emit JobRejected(jobId, providerId, msg.sender, reasonHash);
        _send(token, client, budget);
    }

    /// @notice Refunds an expired job to its client; anyone may call it. A funded job expires at its
    /// deadline and counts against the provider (it never delivered); a submitted job expires
    /// `submissionGrace` later and counts against the client (it took the delivery and never
    /// evaluated it). Neither counts when the job does not.
    function refundExpired(uint256 jobId) external nonReentrant {
        Job storage job = _job(jobId);
        JobStatus status = job.status;
        uint256 providerId = job.providerId;
        address client = job.client;
        address token = job.token;
        uint256 budget = job.budget;
        if (status == JobStatus.Funded) {
            if (block.timestamp <= job.deadline) revert EconomyNotExpired(jobId, job.deadline);
            if (_counts(job, token, budget)) {
                unchecked {
                    _reputationFor(providerId, token).expired += 1;
                }
            }
        } else if (status == JobStatus.Submitted) {
            uint256 graceEnd = uint256(job.deadline) + submissionGrace;
            if (block.timestamp <= graceEnd) revert EconomyNotExpired(jobId, graceEnd);
            if (_counts(job, token, budget)) {
                unchecked {
                    _clientRecords[client][token].expired += 1;
                }
            }
        } else {
            revert EconomyInvalidStatus(jobId, status);
        }
        job.status = JobStatus.Expired;
        _clearAmount(job);
        emit JobExpired(jobId, providerId, msg.sender, status == JobStatus.Submitted);
        _send(token, client, budget);
    }

    // ------------------------------------------------------------------ withdrawals and fees

    /// @notice Withdraws a payout that could not be delivered earlier, to the caller.
    function withdrawOwed(address token) external nonReentrant {
        uint256 amount = owed[msg.sender][token];
        if (amount == 0) revert EconomyNothingOwed(msg.sender, token);
        delete owed[msg.sender][token];
        emit OwedWithdrawn(msg.sender, token, amount);
        _transferOut(token, msg.sender, amount);
    }

    /// @notice Withdraws the protocol fees collected in `token`. Owner only.
    function withdrawFees(address token, address to) external onlyOwner nonReentrant {
        TokenTerms storage terms = _terms[token];
        uint256 amount = terms.accruedFees;
        if (amount == 0) revert EconomyNothingOwed(to, token);
        terms.accruedFees = 0;
        emit FeesWithdrawn(token, to, amount);
        _transferOut(token, to, amount);
    }

    /// @notice Sets the smallest budget in `token` that counts in reputation and client records
    /// (zero: every job counts). Jobs below it still move money; they only leave no record, so farming
    /// a record takes fees on at least this much per job. Owner only; applies to jobs settled from now.
    /// @param token The token, or `address(0)` for ETH.
    /// @param minJobValue_ The minimum budget, in the token's smallest unit.
    function setMinJobValue(address token, uint256 minJobValue_) external onlyOwner {
        if (minJobValue_ > type(uint96).max) revert EconomyAmountTooLarge(minJobValue_);
        _terms[token].minJobValue = uint96(minJobValue_);
        emit MinJobValueSet(token, minJobValue_);
    }

    // ------------------------------------------------------------------ views

    /// @notice A job; `status` is `None` for an unknown id. Once settled (completed, rejected,
    /// declined or expired) its `token` and `budget` read as zero: they are in its events.
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @notice The id of the job `client` creates for `providerId` with `specHash`.
    function jobIdOf(address client, uint256 providerId, bytes32 specHash) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(client, providerId, specHash)));
    }

    /// @notice An agent's reputation as a provider in one token (`address(0)` is ETH).
    function reputationIn(uint256 agentId, address token) external view returns (Reputation memory) {
        return _reputation[agentId][token];
    }

    /// @notice A client's record in one token (`address(0)` is ETH): jobs it completed and what it
    /// paid for them, rejected, and left to expire after delivery.
    function clientRecordIn(address client, address token) external view returns (ClientRecord memory) {
        return _clientRecords[client][token];
    }

    /// @notice Protocol fees collected in `token` and not yet withdrawn.
    function accruedFees(address token) external view returns (uint256) {
        return _terms[token].accruedFees;
    }

    /// @notice The smallest budget in `token` that counts in records (zero: every job counts).
    function minJobValue(address token) external view returns (uint256) {
        return _terms[token].minJobValue;
    }

    /// @notice The tokens an agent has settled jobs in.
    function reputationTokens(uint256 agentId) external view returns (address[] memory) {
        return _reputationTokens[agentId];
    }

    /// @notice An agent's reputation over every token: settled job counts, distinct clients (a client
    /// that paid in two tokens counts in each) and the average rating scaled by 100 (8750 means 87.5;
    /// zero before the first completed job).
    function reputationOf(uint256 agentId)
        external
        view
        returns (uint256 completed, uint256 rejected, uint256 expired, uint256 clients, uint256 averageRatingTimes100)
    {
        address[] storage tokens = _reputationTokens[agentId];
        uint256 ratingSum;
        for (uint256 i; i < tokens.length; ++i) {
            Reputation memory rep = _reputation[agentId][tokens[i]];
            completed += rep.completed;
            rejected += rep.rejected;
            expired += rep.expired;
            clients += rep.clients;
            ratingSum += rep.ratingSum;
        }
        averageRatingTimes100 = completed == 0 ? 0 : ratingSum * 100 / completed;
    }

    /// @notice What an agent has earned through completed jobs in `token` (saturating).
    function earned(uint256 agentId, address token) external view returns (uint256) {
        return _reputation[agentId][token].earned;
    }

    /// @notice When anyone may refund the job (zero when the job is not open).
    function refundableAfter(uint256 jobId) external view returns (uint256) {
        Job storage job = _jobs[jobId];
        if (job.status == JobStatus.Funded) return job.deadline;
        if (job.status == JobStatus.Submitted) return uint256(job.deadline) + submissionGrace;
        return 0;
    }

    // ------------------------------------------------------------------ internals

    function _job(uint256 jobId) private view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status == JobStatus.None) revert EconomyJobNotFound(jobId);
    }

    /// @dev The provider's record in `token`, listing the token the first time the agent settles in it.
    function _reputationFor(uint256 agentId, address token) private returns (Reputation storage rep) {
        rep = _reputation[agentId][token];
        if (rep.completed == 0 && rep.rejected == 0 && rep.expired == 0) {
            _reputationTokens[agentId].push(token);
        }
    }

    /// @dev A counted completion on both records: the provider's (rating, payout, and the client if it
    /// is new to the provider in this token) and the client's (the completion and the budget paid).
    function _recordCompletion(
        uint256 providerId,
        address token,
        address client,
        uint256 rating,
        uint256 payout,
        uint256 budget
    ) private {
        Reputation storage rep = _reputationFor(providerId, token);
        ClientRecord storage record = _clientRecords[client][token];
        unchecked {
            // 2^32 jobs per agent and token, each rated at most 100, fit the counters; sums saturate.
            rep.completed += 1;
            rep.ratingSum += uint40(rating);
            uint256 earnedNow = rep.earned + payout;
            rep.earned = earnedNow > type(uint88).max ? type(uint88).max : uint88(earnedNow);
            record.completed += 1;
            uint256 paidNow = record.paid + budget;
            record.paid = paidNow > type(uint120).max ? type(uint120).max : uint120(paidNow);
        }
        // A client's last counted provider has served it before: no lookup. Otherwise the pair is
        // looked up (and written once, the first time).
        if (record.lastProviderId != providerId) {
            record.lastProviderId = uint40(providerId);
            mapping(address client => bool) storage served = _served[providerId][token];
            if (!served[client]) {
                served[client] = true;
                unchecked {
                    rep.clients += 1;
                }
            }
        }
    }

    /// @dev A settled job keeps its parties, deadline and outcome; its token and budget (in its events)
    /// are cleared, which refunds part of the settlement's gas.
    function _clearAmount(Job storage job) private {
        job.token = address(0);
        job.budget = 0;
    }

    /// @dev Whether a settling job counts in records: not between agents of one owner, and at least the
    /// token's minimum value.
    function _counts(Job storage job, address token, uint256 budget) private view returns (bool) {
        return !job.sameOwner && budget >= _terms[token].minJobValue;
    }

    /// @dev Whether `wallet` is a contract that names `owner` among its owners (Safe's `isOwner`). The
    /// wallet is the caller, paying for its own answer; a capped, returndata-free static call, and
    /// anything but an exact `true` is a no.
    function _coOwnedBy(address wallet, address owner_) private view returns (bool yes) {
        if (wallet.code.length == 0) return false;
        bytes4 selector = IOwnedWallet.isOwner.selector;
        uint256 gasCap = OWNER_CHECK_GAS;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), owner_)
            let ok := staticcall(gasCap, wallet, ptr, 0x24, 0x00, 0x20)
            yes := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0x00), 1)))
        }
    }

    function _onlyProvider(uint256 jobId, uint256 providerId) private view {
        if (msg.sender != identity.paymentAddress(providerId)) revert EconomyNotProvider(jobId, msg.sender);
    }

    /// @dev Settlement payout: never reverts, so a hostile recipient cannot block a settlement; what
    /// cannot be delivered is credited to `owed`. ETH goes with a bounded stipend and its return data
    /// is never copied, so the recipient's code costs the sender at most `ETH_PAYOUT_GAS` (plus the
    /// EVM's own 2,300).
    function _send(address token, address to, uint256 amount) private {
        bool ok;
        if (token == address(0)) {
            uint256 stipend = ETH_PAYOUT_GAS;
            assembly ("memory-safe") {
                ok := call(stipend, to, amount, 0, 0, 0, 0)
            }
        } else {
            ok = IERC20(token).trySafeTransfer(to, amount);
        }
        if (!ok) {
            owed[to][token] += amount;
            emit PaymentDeferred(to, token, amount);
        }
    }

    /// @dev Withdrawal: the caller takes its own debt (or the owner its fees to an address it chose),
    /// so all gas goes along; what failed under the stipend must be able to arrive here. Reverts on
    /// failure, keeping the debt. Return data is not copied.
    function _transferOut(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            bool ok;
            assembly ("memory-safe") {
                ok := call(gas(), to, amount, 0, 0, 0, 0)
            }
            if (!ok) revert EconomyTransferFailed(token, to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
