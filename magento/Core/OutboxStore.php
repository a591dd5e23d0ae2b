<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Core;

/** Where outbox rows live (Model\OutboxTable in Magento; an in-memory twin in the tests). */
interface OutboxStore
{
    /**
     * Claims up to $limit claimable rows, oldest first: each becomes "sending" until $leaseUntil
     * with its attempt counter incremented.
     *
     * @return list<OutboxMessage>
     */
    public function claimDue(int $limit, int $now, int $leaseUntil): array;

    /** Claims one row if it is claimable now (the queue consumer's path). */
    public function claimOne(int $id, int $now, int $leaseUntil): ?OutboxMessage;

    /** Keeps the body built at the first attempt, if the claim still holds. */
    public function storePayload(int $id, int $attempts, string $payload): void;

    /** Records an attempt's result, only if the row is still "sending" at $attempts. */
    public function finishAttempt(int $id, int $attempts, Transition $transition): bool;
}
