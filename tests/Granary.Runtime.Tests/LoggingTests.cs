using System.Collections.Concurrent;
using Granary.Runtime.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task A_turn_longer_than_the_threshold_is_logged_as_a_warning()
    {
        var logs = new ConcurrentQueue<string>();
        await using var silo = await TestSilo.StartAsync(
            silo => silo.Configure<MessagingOptions>(o => o.TurnWarningThreshold = TimeSpan.FromMilliseconds(50)),
            services: s => s.AddLogging(l => l.AddProvider(new CollectingLoggerProvider(logs))));
        var key = Guid.NewGuid().ToString();

        await silo.Grains.GetGrain<IBlockingGrain>(key).SleepAfterYield(120);

        // The warning is written when the turn returns, just after the caller was released.
        await Eventually.True(
            () => logs.Any(line => line.StartsWith("Warning:", StringComparison.Ordinal) && line.Contains(key) && line.Contains("ran for")),
            "a long-turn warning naming the grain");
    }

    private sealed class CollectingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(lines);
        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
