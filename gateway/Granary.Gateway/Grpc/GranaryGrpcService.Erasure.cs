using Google.Protobuf.WellKnownTypes;
using Granary.Gateway.Erasure;
using Granary.Gateway.V1;
using Grpc.Core;

namespace Granary.Gateway.Grpc;

// Granary/Erase: the same checks and grain as POST /erase.
public sealed partial class GranaryGrpcService
{
    /// <inheritdoc/>
    public override async Task<EraseReport> Erase(EraseRequest request, ServerCallContext context)
    {
        var report = await ErasureEndpoints.EraseAsync(context.GetHttpContext(), request.Entity.ToList(), request.FeatureViews, "POST /granary.gateway.v1.Granary/Erase");
        var proto = new EraseReport
        {
            Project = report.Project, KeyHash = report.KeyHash, ErasedAt = Timestamp.FromDateTimeOffset(report.ErasedAt),
            SilosTold = report.SilosTold, CachedEntities = report.CachedEntities,
        };
        proto.FeatureViews.AddRange(report.Views);
        foreach (var p in report.Places)
        {
            var place = new ErasedPlace { Kind = p.Kind, Name = p.Name, Location = p.Location, Rows = p.Rows };
            place.FeatureViews.AddRange(p.Views);
            proto.Places.Add(place);
        }
        return proto;
    }
}
