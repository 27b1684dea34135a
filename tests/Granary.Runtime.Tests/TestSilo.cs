using Granary.Runtime.Catalog;
using Granary.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Runtime.Tests;

/// <summary>A silo in a generic host with the test grains, memory storage and optional extra configuration.</summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private TestSilo(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;
    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();
    public ActivationCatalog Catalog => Services.GetRequiredService<ActivationCatalog>();

    public static async Task<TestSilo> StartAsync(Action<ISiloBuilder>? configure = null, TimeProvider? time = null, Action<IServiceCollection>? services = null, bool defaultStorage = true)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (time is not null) builder.Services.AddSingleton(time);
        services?.Invoke(builder.Services);
        builder.UseGranary(silo =>
        {
            if (defaultStorage) silo.AddMemoryGrainStorageAsDefault();
            silo.AddGrainsFromAssembly(typeof(TestSilo).Assembly);
            configure?.Invoke(silo);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new TestSilo(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>Waits for conditions that other threads make true.</summary>
public static class Eventually
{
    public static async Task True(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) Assert.Fail($"Timed out waiting for: {what}");
            await Task.Delay(5);
        }
    }
}

/// <summary>Named gates that test grains await, opened by the test.</summary>
public static class Gates
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> All = new();

    public static Task Wait(string name) => Get(name).Task;
    public static void Open(string name) => Get(name).TrySetResult();
    public static void Reset(string name) => All[name] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    private static TaskCompletionSource Get(string name) => All.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
