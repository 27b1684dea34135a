using Granary.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Granary.Runtime.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task A_grain_call_activates_the_grain_and_returns_its_result()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseGranary(silo => silo.AddMemoryGrainStorageAsDefault().AddGrainsFromAssembly(typeof(CounterGrain).Assembly));
        using var host = builder.Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var counter = grains.GetGrain<ICounterGrain>("a");
        Assert.Equal(2, await counter.Add(2));
        Assert.Equal(5, await counter.Add(3));
        Assert.Equal(5, await counter.Get());
        await host.StopAsync();
    }
}
