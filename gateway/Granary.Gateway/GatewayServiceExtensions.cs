using Granary.Gateway.Security;
using System.Net;
using Granary.Gateway.Grpc;
using Granary.Gateway.FeatureHealth;
using Granary.Gateway.Metrics;
using Granary.Grains.Registry;
using Granary.Repository;
using Granary.Transforms;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Granary.Gateway;

/// <summary>Adds the gateway to an ASP.NET Core application; map it with <see cref="GatewayEndpoints.MapGranaryGateway"/>.</summary>
public static class GatewayServiceExtensions
{
    /// <summary>
    /// Adds the gateway's services: <see cref="GatewayOptions"/> from the repository's granary.yaml when given, then
    /// <c>Granary:Gateway</c> of <paramref name="configuration"/>, then <paramref name="configure"/>, validated at start-up; Kestrel's two endpoints
    /// (REST on HTTP/1.1+2, gRPC on HTTP/2 only, TLS when a certificate is set) with the body limit; gRPC with the error
    /// interceptor, the health service and reflection; the registry cache and transform catalog. Needs an
    /// <see cref="IGrainFactory"/>: <c>UseOrleansClient</c> in a gateway process, or the co-hosted silo's, registered by the host.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configuration">Holds <c>Granary:Gateway</c>.</param>
    /// <param name="configure">Applied last (e.g. <c>granary serve</c>'s flags).</param>
    /// <param name="repository">
    /// The served repository's granary.yaml, when there is one: its <c>project:</c> and <c>endpoints:</c> apply first, so
    /// <paramref name="configuration"/> and then <paramref name="configure"/> override them.
    /// </param>
    public static IServiceCollection AddGranaryGateway(this IServiceCollection services, IConfiguration configuration, Action<GatewayOptions>? configure = null,
        RepositoryConfig? repository = null)
    {
        var options = services.AddOptions<GatewayOptions>();
        if (repository is not null)
            options.Configure(o =>
            {
                o.Project = repository.Project;
                o.UseEndpoints(repository.Endpoints);
                o.Security.Authorization = repository.Security.Authorization;
                o.Masking.UseRepository(repository.Masking);
            });
        options.Bind(configuration.GetSection(GatewayOptions.SectionName));
        if (configure is not null) options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TransformCatalog>();
        services.TryAddSingleton<RegistryCache>();
        services.TryAddSingleton<OnlineFeatureQueries>();
        services.TryAddSingleton<Security.GatewayAuthentication>();
        services.TryAddSingleton<Security.GatewayAuthorization>();
        services.AddGranaryPiiMasking();
        services.TryAddSingleton<MaterializationRuns>();
        services.TryAddSingleton<Catalog.CatalogQueries>();
        services.AddFeatureHealth();
        // The middleware, outermost first: request metrics, the audit trail (sees every refusal), authentication, rate limits (per principal).
        services.AddGranaryRequestMetrics();
        services.AddGranaryAuditTrail();
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, Security.GatewayAuthenticationStartupFilter>());
        services.AddGranaryRateLimits();

        services.AddGrpc(o => o.Interceptors.Add<GatewayErrorInterceptor>());
        DirectOnlineMethods.AddTo(services); // GetOnlineFeatures written straight to the wire (Grpc/OnlineAnswer.cs)
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<GatewayOptions>>((grpc, gateway) =>
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, gateway.Value.MaxRequestBodyBytes));
        services.AddGrpcReflection();
        services.AddHealthChecks().AddCheck<GatewayHealthCheck>("granary");
        services.AddGrpcHealthChecks(o =>
        {
            // Answer from a fresh check, not a result cached by a background publisher.
            o.UseHealthChecksCache = false;
            o.Services.Map("", _ => true);
            o.Services.Map("feast.serving.ServingService", _ => true);
            o.Services.Map("granary.gateway.v1.Granary", _ => true);
        });
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<GatewayOptions>>((kestrel, gateway) => ConfigureEndpoints(kestrel, gateway.Value));
        return services;
    }

    private static void ConfigureEndpoints(KestrelServerOptions kestrel, GatewayOptions options)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        Listen(kestrel, options, options.RestPort, HttpProtocols.Http1AndHttp2);
        Listen(kestrel, options, options.GrpcPort, HttpProtocols.Http2);
        // Third, so the listen order stays REST, gRPC, web (EmbeddedGateway reads the addresses in that order).
        if (options.WebEnabled) Listen(kestrel, options, options.WebPort, HttpProtocols.Http1AndHttp2);
    }

    private static void Listen(KestrelServerOptions kestrel, GatewayOptions options, int port, HttpProtocols protocols)
    {
        void Configure(ListenOptions listen)
        {
            listen.Protocols = protocols;
            if (options.Tls.Enabled) listen.UseHttps(options.Tls.CertificatePath!, options.Tls.CertificatePassword);
        }
        switch (options.ListenAddress)
        {
            case "*": kestrel.ListenAnyIP(port, Configure); break;
            case "localhost": kestrel.ListenLocalhost(port, Configure); break;
            default: kestrel.Listen(IPAddress.Parse(options.ListenAddress), port, Configure); break;
        }
    }
}
