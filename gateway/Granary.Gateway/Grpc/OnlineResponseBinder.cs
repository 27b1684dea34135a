using Feast.Serving;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Granary.Gateway.Grpc;

/// <summary>
/// Binds a generated gRPC service without its <c>GetOnlineFeatures</c>: <see cref="DirectOnlineMethods"/> binds that
/// method instead, with the same name and request but <see cref="OnlineAnswer"/> as its response, written straight from
/// the domain answer into one span of the pipe of the message's exact size. Every other method binds as generated, its
/// request parser guarded (<see cref="RequestParsing"/>). Server reflection still describes the service: it reads the
/// generated file descriptors, not the bound methods.
/// </summary>
internal sealed class OnlineResponseBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    /// <summary>The method name both services serve online reads under.</summary>
    public const string GetOnlineFeatures = "GetOnlineFeatures";

    /// <inheritdoc/>
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
    {
        if (method.Name == GetOnlineFeatures && typeof(TResponse) == typeof(GetOnlineFeaturesResponse)) return;
        inner.AddMethod(RequestParsing.Guarded(method), handler);
    }

    /// <inheritdoc/>
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        => inner.AddMethod(RequestParsing.Guarded(method), handler);

    /// <inheritdoc/>
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        => inner.AddMethod(RequestParsing.Guarded(method), handler);

    /// <inheritdoc/>
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        => inner.AddMethod(RequestParsing.Guarded(method), handler);
}

/// <summary>
/// Request messages that do not parse end INVALID_ARGUMENT naming the method and the message type. The request is parsed
/// before any interceptor runs, so without this a malformed message would end UNKNOWN ("Exception was thrown by handler").
/// </summary>
internal static class RequestParsing
{
    /// <summary><paramref name="method"/> with its request marshaller guarded.</summary>
    public static Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
        => new(method.Type, method.ServiceName, method.Name, Guarded(method.RequestMarshaller, method.FullName), method.ResponseMarshaller);

    /// <summary><paramref name="marshaller"/>, whose parse errors become INVALID_ARGUMENT for <paramref name="method"/>.</summary>
    public static Marshaller<T> Guarded<T>(Marshaller<T> marshaller, string method) => new(marshaller.ContextualSerializer, context =>
    {
        try
        {
            return marshaller.ContextualDeserializer(context);
        }
        catch (InvalidProtocolBufferException e)
        {
            var message = GatewayErrors.Bound($"{method}: the request is not a valid {typeof(T).Name} message: {e.Message}", GatewayError.MaxMessageLength);
            throw new RpcException(new Status(StatusCode.InvalidArgument, message + " (hint: send the request message the service's .proto declares)"));
        }
    });
}

/// <summary>
/// Binds <c>GetOnlineFeatures</c> of <c>feast.serving.ServingService</c> and <c>granary.gateway.v1.Granary</c> (both
/// answer <c>feast.serving.GetOnlineFeaturesResponse</c>) with <see cref="Marshaller"/>, which writes the answer's bytes
/// directly (<see cref="OnlineAnswer"/>); the generated binding of it is dropped by <see cref="OnlineResponseBinder"/>.
/// </summary>
internal sealed class DirectOnlineMethods : IServiceMethodProvider<FeastServingGrpcService>, IServiceMethodProvider<GranaryGrpcService>
{
    private static readonly Marshaller<GetOnlineFeaturesRequest> RequestMarshaller = Marshallers.Create(
        (request, context) => context.Complete(request.ToByteArray()),
        context => GetOnlineFeaturesRequest.Parser.ParseFrom(context.PayloadAsReadOnlySequence()));

    private static Marshaller<GetOnlineFeaturesRequest> GuardedRequest(Google.Protobuf.Reflection.ServiceDescriptor service)
        => RequestParsing.Guarded(RequestMarshaller, $"/{service.FullName}/{OnlineResponseBinder.GetOnlineFeatures}");

    /// <summary>Serializes an answer into one span of its exact size; answers are never read back on the server.</summary>
    public static Marshaller<OnlineAnswer> Marshaller { get; } = Marshallers.Create<OnlineAnswer>(
        (answer, context) =>
        {
            context.SetPayloadLength(answer.Size);
            var writer = context.GetBufferWriter();
            // A hint above the pool's block size gets one contiguous buffer from the pipe, not Kestrel's 4 KB blocks
            // (each one a trip through the HTTP/2 stream's output lock).
            answer.WriteTo(writer.GetSpan(answer.Size)[..answer.Size]);
            writer.Advance(answer.Size);
            context.Complete();
        },
        _ => throw new NotSupportedException("the gateway does not read GetOnlineFeaturesResponse messages"));

    /// <summary>Registers the bindings for both services (called by AddGranaryGateway).</summary>
    public static void AddTo(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<FeastServingGrpcService>, DirectOnlineMethods>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<GranaryGrpcService>, DirectOnlineMethods>());
    }

    /// <inheritdoc/>
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<FeastServingGrpcService> context)
        => context.AddUnaryMethod(Method(ServingService.Descriptor), Metadata<FeastServingGrpcService>(), (service, request, call) => service.GetOnlineAnswer(request, call));

    /// <inheritdoc/>
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<GranaryGrpcService> context)
        => context.AddUnaryMethod(Method(V1.Granary.Descriptor), Metadata<GranaryGrpcService>(), (service, request, call) => service.GetOnlineAnswer(request, call));

    private static Method<GetOnlineFeaturesRequest, OnlineAnswer> Method(Google.Protobuf.Reflection.ServiceDescriptor service)
        => new(MethodType.Unary, service.FullName, OnlineResponseBinder.GetOnlineFeatures, GuardedRequest(service), Marshaller);

    // What Grpc.AspNetCore's own binder attaches to an endpoint: the service's attributes, POST with CORS preflight.
    private static List<object> Metadata<TService>()
    {
        var metadata = new List<object>(typeof(TService).GetCustomAttributes(inherit: true));
        metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
        return metadata;
    }
}
