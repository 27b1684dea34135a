using System.Buffers;
using System.Collections.Concurrent;

namespace Granary.Runtime.Cluster.Transport;

/// <summary>A grain call on another silo threw an exception of a type this process does not rebuild; type name and message are kept.</summary>
public sealed class RemoteGrainException(string remoteType, string message)
    : Exception($"{remoteType}: {message}")
{
    /// <summary>The full type name of the exception thrown on the remote silo.</summary>
    public string RemoteType { get; } = remoteType;
    /// <summary>The remote exception's own message.</summary>
    public string RemoteMessage { get; } = message;
}

/// <summary>
/// Carries exceptions across the wire as (type name, message) and rebuilds them at the caller: common framework and
/// Granary types are rebuilt as themselves (registered factories, no reflection); others become <see cref="RemoteGrainException"/>.
/// </summary>
public static class RemoteExceptions
{
    private static readonly ConcurrentDictionary<string, Func<string, Exception>> Factories = new(StringComparer.Ordinal)
    {
        [typeof(InvalidOperationException).FullName!] = m => new InvalidOperationException(m),
        [typeof(ArgumentException).FullName!] = m => new ArgumentException(m),
        [typeof(ArgumentNullException).FullName!] = m => new ArgumentException(m),
        [typeof(ArgumentOutOfRangeException).FullName!] = m => new ArgumentOutOfRangeException(null, m),
        [typeof(KeyNotFoundException).FullName!] = m => new KeyNotFoundException(m),
        [typeof(NotSupportedException).FullName!] = m => new NotSupportedException(m),
        [typeof(FormatException).FullName!] = m => new FormatException(m),
        [typeof(TimeoutException).FullName!] = m => new TimeoutException(m),
        [typeof(OperationCanceledException).FullName!] = m => new OperationCanceledException(m),
        [typeof(TaskCanceledException).FullName!] = m => new TaskCanceledException(m),
        [typeof(DivideByZeroException).FullName!] = m => new DivideByZeroException(m),
        [typeof(InconsistentStateException).FullName!] = m => new InconsistentStateException(m, null, null),
        [typeof(SiloUnavailableException).FullName!] = m => new SiloUnavailableException(m),
    };

    /// <summary>Lets the caller rebuild remote exceptions of type <paramref name="fullTypeName"/> with <paramref name="create"/>.</summary>
    public static void Register(string fullTypeName, Func<string, Exception> create) => Factories[fullTypeName] = create;

    /// <summary>Writes the exception as (type full name, message).</summary>
    public static void Write(IBufferWriter<byte> writer, Exception exception)
    {
        var type = exception is RemoteGrainException remote ? remote.RemoteType : exception.GetType().FullName ?? exception.GetType().Name;
        var message = exception is RemoteGrainException r ? r.RemoteMessage : exception.Message;
        FrameCodec.WriteString(writer, type);
        FrameCodec.WriteString(writer, message);
    }

    /// <summary>Rebuilds an exception written by <see cref="Write"/>.</summary>
    public static Exception Read(ReadOnlySpan<byte> body)
    {
        var type = FrameCodec.ReadString(ref body);
        var message = FrameCodec.ReadString(ref body);
        return Factories.TryGetValue(type, out var create) ? create(message) : new RemoteGrainException(type, message);
    }

    /// <summary>A frame body holding an exception.</summary>
    public readonly struct Body(Exception exception) : IFrameBody
    {
        /// <inheritdoc/>
        public void WriteTo(IBufferWriter<byte> writer) => Write(writer, exception);
    }

    /// <summary>A frame body holding one string (rejection reasons, hello fields).</summary>
    public readonly struct TextBody(string text) : IFrameBody
    {
        /// <inheritdoc/>
        public void WriteTo(IBufferWriter<byte> writer) => FrameCodec.WriteString(writer, text);
    }
}
