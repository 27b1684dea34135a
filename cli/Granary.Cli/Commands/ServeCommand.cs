using System.CommandLine;
using Granary.Gateway;
using Granary.Gateway.Catalog;
using Granary.Definitions;
using Granary.Grains.Hosting;
using Granary.Grains.Registry;
using Granary.Repository;
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
        // No defaults here: an absent flag leaves the value endpoints: of granary.yaml gives (itself defaulting to EndpointsConfig's).
        var host = new Option<string?>("--host") { Description = $"Address to listen on: an IP, localhost, or * for every interface (default: the host of endpoints: in granary.yaml, else {EndpointsConfig.DefaultHost})", HelpName = "address" };
        var restPort = new Option<int?>("--rest-port") { Description = $"Port of Feast's REST API and /health, HTTP/1.1 and HTTP/2 (default: endpoints.rest in granary.yaml, else {EndpointsConfig.DefaultRestPort})", HelpName = "port" };
        var grpcPort = new Option<int?>("--grpc-port") { Description = $"Port of the gRPC services, HTTP/2 only (default: endpoints.grpc in granary.yaml, else {EndpointsConfig.DefaultGrpcPort})", HelpName = "port" };
        var webPort = new Option<int?>("--web-port")
        {
            Description = $"Browser-safe port of the UI, the dashboards and the REST API (browsers refuse {EndpointsConfig.DefaultRestPort}); 0 = any free port, {EndpointsConfig.WebPortOff} = off (default: endpoints.web in granary.yaml, else {EndpointsConfig.DefaultWebPort})",
            HelpName = "port",
        };
        var command = new Command("serve", "Run the feature server: the embedded silo plus Feast's REST API and gRPC, until Ctrl+C") { host, restPort, grpcPort, webPort };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var logLevel = parse.GetValue(context.VerboseOption) ? LogLevel.Information : LogLevel.None;
            // The silo collects the Orleans dashboard's statistics (the gateway serves it at /dashboard) and reads every
            // push source's stream, as the silos of a cluster do.
            await using var store = await context.StartStoreAsync(parse, cancellationToken, silo => silo.AddGranaryDashboard().AddGranaryStreamIngest());
            EmbeddedGateway gateway;
            try
            {
                // EmbeddedGateway starts from endpoints: of granary.yaml; a flag given overrides its value.
                gateway = await EmbeddedGateway.StartAsync(store, o =>
                {
                    if (parse.GetValue(host) is { } h) o.ListenAddress = h;
                    if (parse.GetValue(restPort) is { } rest) o.RestPort = rest;
                    if (parse.GetValue(grpcPort) is { } grpc) o.GrpcPort = grpc;
                    if (parse.GetValue(webPort) is { } web) o.WebPort = web;
                }, logLevel, cancellationToken: cancellationToken);
            }
            catch (Microsoft.Extensions.Options.OptionsValidationException e)
            {
                throw new CliException(string.Join("; ", e.Failures));
            }
            catch (IOException e)
            {
                throw new CliException($"cannot listen: {e.Message}", "pick free ports under endpoints: in granary.yaml, or with --rest-port, --grpc-port and --web-port");
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
                var streams = (await store.Grains.GetGrain<IRegistryGrain>(store.Config.Project).GetSnapshotAsync()).DataSources
                    .OfType<PushSource>().Where(p => p.Stream is not null).Select(p => $"{p.Name} <- {p.Stream!.Type} stream '{p.Stream.Key}'").ToList();
                if (streams.Count > 0) console.Line($"ingesting {string.Join(", ", streams)} (progress: granary_stream_* at /metrics; dead letters: granary ingest <push source> --dead-letters)");
                if (gateway.WebUrl is null && new Uri(gateway.RestUrl).Port == EndpointsConfig.DefaultRestPort)
                    console.Line($"[yellow]note[/]: the web port is off and browsers refuse port {EndpointsConfig.DefaultRestPort}; to open the UI, serve with --web-port {EndpointsConfig.DefaultWebPort}");
                if (gateway.Options.Security.Authorization)
                    console.Line($"[green]authorization on[/]: every request but /health needs 'Authorization: Bearer <API key or JWT>' and a permission in the repository; create keys with 'granary auth create-key'");
                else
                    console.Write(new Panel(CliConsole.Styled(
                            $"[bold red]AUTHORIZATION IS OFF.[/] Anyone who can reach these ports can read every feature (those tagged pii unmasked), push values and materialize,\nwith no credentials and no permission check (granary.yaml security: {{authorization: off}}).\nUse this only on your own machine; remove the setting before the server is reachable by anyone else."))
                        .Header("[bold red] WARNING [/]").Border(BoxBorder.Double).BorderColor(Color.Red));
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
