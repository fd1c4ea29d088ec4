namespace AgentPerimeter.Gateway.UnitTests.Idempotency;

/// <summary>The in-memory idempotency store on its own (keys through a real gateway are functional tests).</summary>
public class IdempotencyTests
{
    [Fact]
    public async Task TheInMemoryStore_KeepsItsRecordedAnswersWithinABudget_AndStillNeverExecutesTwice()
    {
        var store = new AgentPerimeter.Gateway.Idempotency.InMemoryIdempotencyStore(TimeProvider.System, maxRecordedBytes: 100);
        var window = TimeSpan.FromHours(1);
        Assert.Equal(AgentPerimeter.Gateway.Idempotency.IdempotencyState.Started, (await store.BeginAsync("k1", "fp", "c1", TimeSpan.FromMinutes(5), window)).State);
        await store.CompleteAsync("k1", "fp", new AgentPerimeter.Gateway.Idempotency.StoredOutcome { Kind = "http", Status = 200, Body = new byte[80] }, window);
        Assert.Equal(AgentPerimeter.Gateway.Idempotency.IdempotencyState.Started, (await store.BeginAsync("k2", "fp", "c2", TimeSpan.FromMinutes(5), window)).State);
        await store.CompleteAsync("k2", "fp", new AgentPerimeter.Gateway.Idempotency.StoredOutcome { Kind = "http", Status = 200, Body = new byte[80] }, window);

        var first = await store.BeginAsync("k1", "fp", "c3", TimeSpan.FromMinutes(5), window);
        var second = await store.BeginAsync("k2", "fp", "c4", TimeSpan.FromMinutes(5), window);
        Assert.Equal("http", first.Outcome!.Kind);          // within the budget: replayed whole
        Assert.Equal(AgentPerimeter.Gateway.Idempotency.IdempotencyState.Completed, second.State);
        Assert.Equal("unknown", second.Outcome!.Kind);      // over it: not replayable, but not executed again
    }
}
