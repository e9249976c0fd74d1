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
}

/// @title Agent economy: payments, escrowed jobs and reputation
/// @notice Agents pay each other directly or through escrowed jobs. A client creates and funds a job
/// in one call; the provider (the agent's payment address) declines or submits a deliverable hash; the
/// client or the job's evaluator completes it (paying the provider minus a capped protocol fee) or
/// rejects it (refunding the client). Anyone may refund a job once it has expired. Reputation is
/// written only when a job settles, so it is bound to paid work.
/// @dev Tokens must be plain ERC-20s: tokens that take a fee on transfer or rebase are unsupported. A
/// token can only ever affect the jobs denominated in it, because every job moves its own token only.
/// Payouts that fail (a wallet refusing ETH, a token blocking a recipient) are credited to `owed` for
/// the recipient to withdraw, so no settlement can be blocked and no funds can be stranded.
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

    /// @notice A job, packed into two storage slots (three with an evaluator).
    struct Job {
        address client;
        uint48 providerId;
        uint40 deadline;
        JobStatus status;
        address token;
        uint96 budget;
        address evaluator;
    }

    /// @notice An agent's track record in one token, packed into one slot. The rating total divided by
    /// `completed` is the average rating (every completion carries one). `earned` saturates at its
    /// maximum rather than overflow, so it never blocks a settlement.
    struct Reputation {
        uint32 completed;
        uint32 rejected;
        uint32 expired;
        uint32 declined;
        uint40 ratingSum;
        uint88 earned;
    }

    /// @notice The highest protocol fee the owner can ever set, in basis points (5%).
    uint16 public constant MAX_FEE_BPS = 500;
    /// @notice The highest rating a client can give.
    uint8 public constant MAX_RATING = 100;
    /// @notice The longest a job may run before it expires.
    uint256 public constant MAX_JOB_DURATION = 365 days;

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
    /// @notice Protocol fees collected and not yet withdrawn, per token.
    mapping(address token => uint256) public accruedFees;
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
    /// @param toAgentId The payee agent.
    /// @param token The token, or `address(0)` for ETH.
    /// @param amount How much to pay.
    /// @param memo A hash the payer attaches (an invoice, a message), for the payee's records.
    function pay(uint256 toAgentId, address token, uint256 amount, bytes32 memo) external payable nonReentrant {
        if (amount == 0) revert EconomyZeroAmount();
        address to = identity.paymentAddress(toAgentId);
        if (token == address(0)) {
            if (msg.value != amount) revert EconomyValueMismatch(amount, msg.value);
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert EconomyTransferFailed(token, to, amount);
        } else {
            if (msg.value != 0) revert EconomyValueMismatch(0, msg.value);
            IERC20(token).safeTransferFrom(msg.sender, to, amount);
        }
        emit Paid(toAgentId, msg.sender, token, to, amount, memo);
    }

    // ------------------------------------------------------------------ jobs

    /// @notice Creates a job for the provider agent and escrows its budget in the same call. ERC-20
    /// budgets are pulled from the caller (approve first); ETH budgets come as `msg.value`. The job's id
    /// is `jobIdOf(client, providerId, specHash)`: a retried call with the same specification cannot
    /// fund a second job, and a client knows the id before the transaction lands.
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
        if (providerId > type(uint48).max) revert EconomyAgentIdTooLarge(providerId);
        if (deadline <= block.timestamp || deadline > block.timestamp + MAX_JOB_DURATION) {
            revert EconomyInvalidDeadline(deadline);
        }
        address provider = identity.paymentAddress(providerId);
        if (provider == msg.sender) revert EconomySelfDealing(providerId, msg.sender);
        if (evaluator == provider) revert EconomyInvalidEvaluator(evaluator);

        jobId = jobIdOf(msg.sender, providerId, specHash);
        Job storage job = _jobs[jobId];
        if (job.status != JobStatus.None) revert EconomyJobExists(jobId);
        job.client = msg.sender;
        job.providerId = uint48(providerId);
        job.deadline = uint40(deadline);
        job.status = JobStatus.Funded;
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

    /// @notice The provider turns the job down; the client is refunded at once.
    function declineJob(uint256 jobId, bytes32 reasonHash) external nonReentrant {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Funded) revert EconomyInvalidStatus(jobId, job.status);
        uint256 providerId = job.providerId;
        _onlyProvider(jobId, providerId);
        job.status = JobStatus.Declined;
        Reputation storage rep = _reputationFor(providerId, job.token);
        unchecked {
            rep.declined += 1;
        }
        emit JobDeclined(jobId, providerId, reasonHash);
        _send(job.token, job.client, job.budget);
    }

    /// @notice The client (or the evaluator) accepts the delivery: the provider's payment address
    /// receives the budget minus the protocol fee, and the provider's reputation records the rating.
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
        uint256 fee;
        uint256 payout;
        unchecked {
            // budget < 2^96 and feeBps <= 500: no overflow, and fee <= budget.
            fee = budget * feeBps / 10_000;
            payout = budget - fee;
        }
        if (fee != 0) accruedFees[token] += fee;

        Reputation storage rep = _reputationFor(providerId, token);
        unchecked {
            // 2^32 jobs per agent and token, each rated at most 100, fit the counters.
            rep.completed += 1;
            rep.ratingSum += rating;
            uint256 earnedNow = rep.earned + payout;
            rep.earned = earnedNow > type(uint88).max ? type(uint88).max : uint88(earnedNow);
        }

        address payee = identity.paymentAddress(providerId);
        emit JobCompleted(jobId, providerId, client, payee, payout, fee, rating, feedbackHash);
        _send(token, payee, payout);
    }

    /// @notice Rejects the delivery and refunds the client. Only the evaluator may reject when the job
    /// has one; otherwise the client.
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
        unchecked {
            _reputationFor(providerId, job.token).rejected += 1;
        }
        emit JobRejected(jobId, providerId, msg.sender, reasonHash);
        _send(job.token, job.client, job.budget);
    }

    /// @notice Refunds an expired job to its client; anyone may call it. A funded job expires at its
    /// deadline and counts against the provider; a submitted job expires `submissionGrace` later
    /// (the client never evaluated) and does not count against the provider.
    function refundExpired(uint256 jobId) external nonReentrant {
        Job storage job = _job(jobId);
        JobStatus status = job.status;
        uint256 providerId = job.providerId;
        if (status == JobStatus.Funded) {
            if (block.timestamp <= job.deadline) revert EconomyNotExpired(jobId, job.deadline);
            unchecked {
                _reputationFor(providerId, job.token).expired += 1;
            }
        } else if (status == JobStatus.Submitted) {
            uint256 graceEnd = uint256(job.deadline) + submissionGrace;
            if (block.timestamp <= graceEnd) revert EconomyNotExpired(jobId, graceEnd);
        } else {
            revert EconomyInvalidStatus(jobId, status);
        }
        job.status = JobStatus.Expired;
        emit JobExpired(jobId, providerId, msg.sender, status == JobStatus.Submitted);
        _send(job.token, job.client, job.budget);
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
        uint256 amount = accruedFees[token];
        if (amount == 0) revert EconomyNothingOwed(to, token);
        delete accruedFees[token];
        emit FeesWithdrawn(token, to, amount);
        _transferOut(token, to, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice A job; `status` is `None` for an unknown id.
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @notice The id of the job `client` creates for `providerId` with `specHash`.
    function jobIdOf(address client, uint256 providerId, bytes32 specHash) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(client, providerId, specHash)));
    }

    /// @notice An agent's reputation in one token (`address(0)` is ETH).
    function reputationIn(uint256 agentId, address token) external view returns (Reputation memory) {
        return _reputation[agentId][token];
    }

    /// @notice The tokens an agent has settled jobs in.
    function reputationTokens(uint256 agentId) external view returns (address[] memory) {
        return _reputationTokens[agentId];
    }

    /// @notice An agent's reputation over every token: settled job counts and the average rating
    /// scaled by 100 (8750 means 87.5; zero before the first completed job).
    function reputationOf(uint256 agentId)
        external
        view
        returns (uint256 completed, uint256 rejected, uint256 expired, uint256 declined, uint256 averageRatingTimes100)
    {
        address[] storage tokens = _reputationTokens[agentId];
        uint256 ratingSum;
        for (uint256 i; i < tokens.length; ++i) {
            Reputation memory rep = _reputation[agentId][tokens[i]];
            completed += rep.completed;
            rejected += rep.rejected;
            expired += rep.expired;
            declined += rep.declined;
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
        if (rep.completed == 0 && rep.rejected == 0 && rep.expired == 0 && rep.declined == 0) {
            _reputationTokens[agentId].push(token);
        }
    }

    function _onlyProvider(uint256 jobId, uint256 providerId) private view {
        if (msg.sender != identity.paymentAddress(providerId)) revert EconomyNotProvider(jobId, msg.sender);
    }

    /// @dev Settlement payout: never reverts, so a hostile recipient cannot block a settlement; what
    /// cannot be delivered is credited to `owed`.
    function _send(address token, address to, uint256 amount) private {
        bool ok;
        if (token == address(0)) {
            (ok,) = to.call{value: amount}("");
        } else {
            ok = IERC20(token).trySafeTransfer(to, amount);
        }
        if (!ok) {
            owed[to][token] += amount;
            emit PaymentDeferred(to, token, amount);
        }
    }

    function _transferOut(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert EconomyTransferFailed(token, to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
