using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Dashboard;
using Orleans.Runtime;

namespace Granary.Gateway.Catalog;

/// <summary>
/// The Orleans dashboard (Microsoft.Orleans.Dashboard) served by the gateway at <c>/dashboard</c> on its REST port. The
/// silos collect the statistics (<see cref="AddGranaryDashboard(ISiloBuilder)"/>); the gateway serves the pages and asks
/// the silos' dashboard grains for data, as an Orleans client in cluster mode (<see cref="AddGranaryDashboard(IClientBuilder)"/>)
/// or through the co-hosted silo's grain factory in <c>granary serve</c> (<see cref="AddGranaryDashboard(IServiceCollection, IConfiguration)"/>).
/// </summary>
public static class GatewayDashboard
{
    /// <summary>Where the dashboard is mapped.</summary>
    public const string RoutePrefix = "/dashboard";

    /// <summary>Adds the dashboard's statistics collection and grains to a silo.</summary>
    public static ISiloBuilder AddGranaryDashboard(this ISiloBuilder silo)
    {
        silo.AddDashboard();
        silo.Services.AddSingleton<SiloCollects>();
        return silo;
    }

    /// <summary>Whether the silo whose services are <paramref name="siloServices"/> collects dashboard statistics.</summary>
    public static bool SiloCollectsStatistics(IServiceProvider siloServices) => siloServices.GetService<SiloCollects>() is not null;

    /// <summary>Adds the dashboard's client side to a gateway that is an Orleans client of the cluster (whose silos run <see cref="AddGranaryDashboard(ISiloBuilder)"/>).</summary>
    public static IClientBuilder AddGranaryDashboard(this IClientBuilder client)
    {
        client.AddDashboard();
        client.Services.AddSingleton<DashboardAdded>();
        return client;
    }

    /// <summary>
    /// Adds the dashboard's client side to a gateway co-hosted with a silo in the same process but in its own container
    /// (<c>granary serve</c>'s EmbeddedGateway): the same registrations as on an Orleans client, over the services the host registered.
    /// </summary>
    public static IServiceCollection AddGranaryDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        new ServicesOnly(services, configuration).AddGranaryDashboard();
        return services;
    }

    /// <summary>Maps the dashboard when it was added (its paths guarded, <see cref="GuardPathsAsync"/>); otherwise the UI links to a silo's own.</summary>
    internal static void MapIfAdded(IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetService<DashboardAdded>() is not null) app.MapOrleansDashboard(routePrefix: RoutePrefix).AddEndpointFilter(GuardPathsAsync);
    }

    // The dashboard's routes that take a silo address from the path: SiloStats/{*address} and the like, HistoricalStats/{*path}.
    private static readonly string[] SiloAddressParameters = ["address", "path"];

    /// <summary>
    /// A silo address in a dashboard path that does not parse is a 400 naming it; a handler that still fails on what the
    /// path gave it (a parse deep inside the dashboard) is a 400 too, never the dashboard's 500.
    /// </summary>
    private static async ValueTask<object?> GuardPathsAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        foreach (var name in SiloAddressParameters)
        {
            if (!http.Request.RouteValues.TryGetValue(name, out var value) || value is not string text) continue;
            if (ParseSiloAddress(text) is not { } silo)
                return await RefuseAsync(http, StatusCodes.Status400BadRequest, $"'{GatewayErrors.Echo(text)}' in '{GatewayErrors.Echo(http.Request.Path)}' is not a silo address");
            // The dashboard answers a silo outside the cluster with 503 ("lost connectivity"); it is an unknown name, a 404.
            var hosts = await http.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            if (!hosts.ContainsKey(silo))
                return await RefuseAsync(http, StatusCodes.Status404NotFound, $"silo '{GatewayErrors.Echo(text)}' is not an active silo of the cluster; active: {string.Join(", ", hosts.Keys.Select(k => k.ToParsableString()))}");
        }
        try
        {
            return await next(invocation);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException or InvalidCastException && !http.Response.HasStarted)
        {
            return await RefuseAsync(http, StatusCodes.Status400BadRequest, $"'{GatewayErrors.Echo(http.Request.Path)}' is not a dashboard path the dashboard can answer: {e.Message}");
        }
    }

    private static SiloAddress? ParseSiloAddress(string text)
    {
        try
        {
            return SiloAddress.FromParsableString(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            return null;
        }
    }

    private static async Task<object?> RefuseAsync(HttpContext http, int status, string message)
    {
        await new GatewayError(status, status == StatusCodes.Status404NotFound ? StatusCode.NotFound : StatusCode.InvalidArgument, "BadDashboardPath", message,
            "open the dashboard at /dashboard/ and follow its links; silo addresses look like 10.0.0.5:11111@123456789").WriteAsync(http.Response);
        return Results.Empty;
    }

    /// <summary>Whether the gateway serves the dashboard itself.</summary>
    public static bool IsServed(IServiceProvider services) => services.GetService<DashboardAdded>() is not null;

    private sealed class DashboardAdded;

    private sealed class SiloCollects;

    private sealed class ServicesOnly(IServiceCollection services, IConfiguration configuration) : IClientBuilder
    {
        public IServiceCollection Services { get; } = services;
        public IConfiguration Configuration { get; } = configuration;
    }
}
