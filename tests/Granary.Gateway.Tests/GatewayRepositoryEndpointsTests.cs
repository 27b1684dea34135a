using Granary.Repository;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Tests;

/// <summary>
/// How a gateway host given the repository (granary-gateway with <c>Granary:RepositoryRoot</c>, <c>granary serve</c>) settles
/// where to listen: granary.yaml's <c>project:</c> and <c>endpoints:</c> first, then <c>Granary:Gateway</c> settings, then code.
/// </summary>
public sealed class GatewayRepositoryEndpointsTests
{
    private static readonly RepositoryConfig Repository = RepositoryConfig.Parse(
        "project: yard\nendpoints:\n  rest: 0.0.0.0:7000\n  grpc: 0.0.0.0:7002\n  web: off\n", "granary.yaml");

    private static GatewayOptions Settle(Dictionary<string, string?> settings, Action<GatewayOptions>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var services = new ServiceCollection().AddGranaryGateway(configuration, configure, Repository).BuildServiceProvider();
        return services.GetRequiredService<IOptions<GatewayOptions>>().Value;
    }

    [Fact]
    public void Granary_yaml_gives_the_project_and_the_endpoints()
    {
        var options = Settle([]);
        Assert.Equal(("yard", "0.0.0.0", 7000, 7002, GatewayOptions.WebPortOff),
            (options.Project, options.ListenAddress, options.RestPort, options.GrpcPort, options.WebPort));
    }

    [Fact]
    public void Settings_override_granary_yaml_and_code_overrides_settings()
    {
        var options = Settle(new() { ["Granary:Gateway:GrpcPort"] = "7001", ["Granary:Gateway:WebPort"] = "7003", ["Granary:Gateway:RestPort"] = "7004" },
            o => o.RestPort = 7005);
        Assert.Equal(("yard", "0.0.0.0", 7005, 7001, 7003), (options.Project, options.ListenAddress, options.RestPort, options.GrpcPort, options.WebPort));
    }

    [Fact]
    public void Without_a_repository_the_defaults_are_the_ones_granary_init_writes()
    {
        var configuration = new ConfigurationBuilder().Build();
        using var services = new ServiceCollection().AddGranaryGateway(configuration, o => o.Project = "demo").BuildServiceProvider();
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var sample = RepositoryConfig.Parse(SampleRepository.ConfigYaml("demo"), "granary.yaml").Endpoints;
        Assert.Equal((sample.Host, sample.RestPort, sample.GrpcPort, sample.WebPort), (options.ListenAddress, options.RestPort, options.GrpcPort, options.WebPort));
    }
}
