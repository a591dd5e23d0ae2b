<?php
declare(strict_types=1);

namespace B1Bridge\Webhook\Test\Unit\Core;

use B1Bridge\Webhook\Core\BackoffSchedule;
use PHPUnit\Framework\TestCase;

final class BackoffScheduleTest extends TestCase
{
    /** @return array<string, array{0: int, 1: ?int, 2: int}> */
    public static function defaults(): array
    {
        return [
            'after attempt 1' => [1, null, 5],
            'after attempt 2' => [2, null, 300],
            'after attempt 3' => [3, null, 1800],
            'after attempt 9' => [9, null, 86400],
            'the last wait repeats' => [25, null, 86400],
            'a longer Retry-After wins' => [1, 120, 120],
            'a shorter Retry-After does not' => [3, 60, 1800],
            'Retry-After is capped at a day' => [1, 10 * 86400, 86400],
        ];
    }

    /** @dataProvider defaults */
    public function testTheDefaultScheduleFollowsStandardWebhooks(int $attempt, ?int $retryAfter, int $wait): void
    {
        self::assertSame($wait, (new BackoffSchedule())->delayAfter($attempt, $retryAfter));
    }

    public function testTenAttemptsSpanAboutThreeDays(): void
    {
        $s = new BackoffSchedule();
        $total = 0;
        for ($a = 1; $a < 10; $a++) {
            $total += $s->delayAfter($a);
        }
        self::assertSame(5 + 300 + 1800 + 7200 + 18000 + 36000 + 50400 + 72000 + 86400, $total);
        self::assertGreaterThan(3 * 86400, $total);
    }

    public function testTheAdminListIsParsed(): void
    {
        $s = BackoffSchedule::fromList(' 10, 60 ,600 ');
        self::assertSame([10, 60, 600, 600], [$s->delayAfter(1), $s->delayAfter(2), $s->delayAfter(3), $s->delayAfter(4)]);
    }

    /** @return array<string, array{0: string}> */
    public static function badLists(): array
    {
        return ['empty' => [''], 'negative' => ['5,-1'], 'words' => ['5,soon'], 'fraction' => ['1.5']];
    }

    /** @dataProvider badLists */
    public function testABadListIsRefused(string $list): void
    {
        $this->expectException(\InvalidArgumentException::class);
        BackoffSchedule::fromList($list);
    }

    public function testAttemptsCountFromOne(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        (new BackoffSchedule())->delayAfter(0);
    }
}
