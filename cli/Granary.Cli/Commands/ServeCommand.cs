using System.CommandLine;
using Granary.Gateway;
using Granary.Gateway.Catalog;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary serve</c>: the embedded silo and the gateway in one process on the repository's stores (SQLite, DuckDB over
/// Parquet by default), printing every endpoint; runs until Ctrl+C.
/// </summary>
public sealed class ServeCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var host = new Option<string>("--host") { Description = "Address to listen on: an IP, localhost, or * for every interface", DefaultValueFactory = _ => "127.0.0.1", HelpName = "address" };
        var restPort = new Option<int>("--rest-port") { Description = "Port of Feast's REST API and /health (HTTP/1.1 and HTTP/2)", DefaultValueFactory = _ => GatewayOptions.DefaultRestPort, HelpName = "port" };
        var grpcPort = new Option<int>("--grpc-port") { Description = "Port of the gRPC services (HTTP/2 only)", DefaultValueFactory = _ => GatewayOptions.DefaultGrpcPort, HelpName = "port" };
        var webPort = new Option<int>("--web-port")
        {
            Description = $"Browser-safe port of the UI, the dashboards and the REST API (browsers refuse {GatewayOptions.DefaultRestPort}); 0 = any free port, {GatewayOptions.WebPortOff} = off",
            DefaultValueFactory = _ => GatewayOptions.DefaultWebPort, HelpName = "port",
        };
        var command = new Command("serve", "Run the feature server: the embedded silo plus Feast's REST API and gRPC, until Ctrl+C") { host, restPort, grpcPort, webPort };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var logLevel = parse.GetValue(context.VerboseOption) ? LogLevel.Information : LogLevel.None;
            // The silo collects the Orleans dashboard's statistics; the gateway serves it at /dashboard.
            await using var store = await context.StartStoreAsync(parse, cancellationToken, silo => silo.AddGranaryDashboard());
            EmbeddedGateway gateway;
            try
            {
                gateway = await EmbeddedGateway.StartAsync(store, o =>
                {
                    o.ListenAddress = parse.GetValue(host)!;
                    o.RestPort = parse.GetValue(restPort);
                    o.GrpcPort = parse.GetValue(grpcPort);
                    o.WebPort = parse.GetValue(webPort);
                }, logLevel, cancellationToken);
            }
            catch (Microsoft.Extensions.Options.OptionsValidationException e)
            {
                throw new CliException(string.Join("; ", e.Failures));
            }
            catch (IOException e)
            {
                throw new CliException($"cannot listen: {e.Message}", "pick free ports with --rest-port, --grpc-port and --web-port");
            }
            await using (gateway)
            {
                var console = context.Console;
                console.Line($"[green]serving[/] project [bold]{store.Config.Project}[/] from {store.RepositoryRoot}");
                var table = new Table().AddColumns("endpoint", "address");
                table.AddRow("REST (Feast)", Markup.Escape($"POST {gateway.RestUrl}/get-online-features, /push, /write-to-online-store, /materialize, /materialize-incremental"));
                table.AddRow("health", Markup.Escape($"GET {gateway.RestUrl}/health"));
                // The UI and dashboards on the web port: browsers refuse Feast's REST port 6566 (a Fetch standard "bad port").
                var web = gateway.WebUrl ?? gateway.RestUrl;
                table.AddRow("feature catalog (UI)", Markup.Escape($"{web}{CatalogEndpoints.UiPath}  (JSON: {web}/api/catalog/search)"));
                table.AddRow("Orleans dashboard", Markup.Escape($"{web}{GatewayDashboard.RoutePrefix}/"));
                table.AddRow("metrics", Markup.Escape($"GET {web}/metrics  (Prometheus: Granary's and Orleans' meters)"));
                table.AddRow("gRPC (HTTP/2)", Markup.Escape($"{gateway.GrpcUrl}  feast.serving.ServingService, granary.gateway.v1.Granary, grpc.health.v1.Health, reflection"));
                console.Write(table);
                if (gateway.WebUrl is null && new Uri(gateway.RestUrl).Port == GatewayOptions.DefaultRestPort)
                    console.Line($"[yellow]note[/]: the web port is off and browsers refuse port {GatewayOptions.DefaultRestPort}; to open the UI, serve with --web-port {GatewayOptions.DefaultWebPort}");
                console.Line($"press Ctrl+C to stop");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    console.Line($"stopping");
                }
            }
            return 0;
        }));
        return command;
    }
}
