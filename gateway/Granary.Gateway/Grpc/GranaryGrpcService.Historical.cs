using Granary.Gateway.V1;
using Granary.Online;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Gateway.Grpc;

public sealed partial class GranaryGrpcService
{
    /// <inheritdoc/>
    public override Task GetHistoricalFeatures(GetHistoricalFeaturesRequest request, IServerStreamWriter<HistoricalFeaturesEvent> responseStream, ServerCallContext context)
    {
        var services = context.GetHttpContext().RequestServices;
        // Co-hosted with a silo, the gateway holds its online store and sees its files; a cluster gateway holds neither.
        var sharesSiloFiles = services.GetService<IOnlineStore>() is not null;
        return HistoricalFeatureJobs.RunAsync(services.GetRequiredService<OnlineFeatureQueries>(), _grains, request, sharesSiloFiles,
            e => responseStream.WriteAsync(e, context.CancellationToken), context.GetHttpContext(), context.CancellationToken);
    }
}
