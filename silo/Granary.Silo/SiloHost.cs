using Granary.Grains.Hosting;
using Granary.Hosting;
using Granary.Offline.DuckDb;
using Granary.Offline.Postgres;
using Granary.Online.Redis;
using Granary.Online.Sqlite;
using Granary.Registry.Sql;
using Granary.Repository;
using System.Net;
using Granary.Clustering.PostgreSql;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using Orleans.Configuration;
using Prometheus;
using StackExchange.Redis;

namespace Granary.Silo;

/// <summary>
/// The silo's whole program, so that a test host can run the same silo with test-only grains referenced beside it
/// (tests/Granary.TestSilo); the production executable (Program.cs) loads only Granary's own grains.
/// </summary>
public static class SiloHost
{
    /// <summary>Parses <paramref name="args"/>, runs the silo until it is stopped, and returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        SiloSettings settings;
        try
        {
            settings = SiloSettings.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        // granary.yaml is read here, by the program, so registering the silo's services reads no file.
        RepositoryConfig? repository = null;
        if (settings.Repo is { } repo)
        {
            try
            {
                repository = RepositoryConfig.Load(repo);
            }
            catch (RepositoryValidationException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        }

        var builder = WebApplication.CreateBuilder(args.Where(a => a.Contains('=')).ToArray());
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.WebHost.UseUrls($"http://{settings.Host}:{settings.HttpPort}");

        builder.Services.AddOptions<ClusterTimingOptions>().BindConfiguration(ClusterTimingOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ClusterTimingOptions>, ClusterTimingOptionsValidator>();
        builder.Services.AddOptions<ClusterMembershipOptions>().Configure<IOptions<ClusterTimingOptions>>((membership, timings) =>
        {
            var t = timings.Value;
            membership.ProbeTimeout = t.ProbeTimeout;
            membership.NumMissedProbesLimit = t.NumMissedProbesLimit;
            membership.NumVotesForDeathDeclaration = t.NumVotesForDeathDeclaration;
            membership.DeathVoteExpirationTimeout = t.DeathVoteExpirationTimeout;
            membership.TableRefreshTimeout = t.TableRefreshTimeout;
            membership.IAmAliveTablePublishTimeout = t.IAmAliveTablePublishTimeout;
        });

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                // One service per cluster: grain state keys and reminders are scoped by it, so they survive restarts.
                o.ServiceId = settings.ClusterId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.Name ?? $"{settings.Host}:{settings.Port}");
            silo.ConfigureEndpoints(IPAddress.Parse(settings.Host), settings.Port, settings.GatewayPort, listenOnAnyHostAddress: false);

            if (settings.Postgres is { } postgres)
            {
                silo.UseGranaryPostgresClustering(postgres);
            }
            else
            {
                silo.UseLocalhostClustering(settings.Port, settings.GatewayPort);
                silo.UseInMemoryReminderService();
            }

            if (settings.Redis is { } redis)
            {
                silo.AddRedisGrainStorageAsDefault(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            }
            else
            {
                silo.AddMemoryGrainStorageAsDefault();
            }

            if (repository is not null)
            {
                // The feature store of repo/granary.yaml: its registry, offline and online stores, and the grains' services.
                silo.Services.AddGranarySqlRegistryStores().AddGranarySqliteOnlineStore().AddGranaryRedisOnlineStore()
                    .AddGranaryDuckDbOfflineStore().AddGranaryPostgresOfflineStore();
                silo.AddGranary(repository);
                // Every push source that names a stream is read by one silo of the cluster at a time.
                silo.AddGranaryStreamIngest();
            }

            silo.AddDashboard();
        });

        var app = builder.Build();
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        // Prometheus: Orleans' meters and Granary's (materialization, push) recorded on this silo; docs/observability.md.
        Granary.Observability.PrometheusExport.Configure();
        app.MapMetrics();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Granary.Silo");
        if (settings.Redis is null) logger.LogWarning("No --redis given: grain state lives in this process's memory and is lost when the silo stops.");
        if (settings.Postgres is null) logger.LogWarning("No --postgres given: localhost clustering; this silo runs alone and other silos cannot join it.");
        logger.LogInformation("Orleans dashboard: http://{Host}:{Port}/dashboard, Prometheus metrics: /metrics", settings.Host, settings.HttpPort);

        try
        {
            await app.RunAsync();
            return 0;
        }
        catch (OptionsValidationException e)
        {
            foreach (var failure in e.Failures) Console.Error.WriteLine(failure);
            return 2;
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "The silo stopped: {Message}", e.Message);
            return 1;
        }
    }
}
