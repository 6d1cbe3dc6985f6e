package dev.lambdalens.opensearch;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.core.common.transport.TransportAddress;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.ingest.common.IngestCommonPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single-node OpenSearch on 127.0.0.1 with the modules a managed domain has, loaded as
 * classpath plugins (the embedded-node pattern of OpenSearch's own test framework).
 *
 * <p>Arguments are settings, {@code -Ekey=value}; {@code path.home} is required. When HTTP is
 * bound it prints one JSON line on standard output, {@code {"http": "127.0.0.1:PORT", "pid": N}}.
 * It stops (closing the node) on SIGTERM, SIGINT, or when standard input closes, so it never
 * outlives the process that started it. With {@code -Dlambdalens.home.temporary=true} it then
 * deletes its home, which a parent that was killed cannot do.
 */
public final class LocalNode extends Node {
    static final List<Class<? extends Plugin>> MODULES = List.of(
        Netty4Plugin.class,
        CommonAnalysisPlugin.class,
        MapperExtrasPlugin.class,
        PainlessPlugin.class,
        IngestCommonPlugin.class
    );

    LocalNode(Environment environment) {
        super(environment, MODULES, true);
    }

    static Settings settings(String[] args) {
        Settings.Builder builder = Settings.builder()
            .put("cluster.name", "lambdalens-local")
            .put("node.name", "local")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("http.port", "9200")
            .put("transport.port", "0")
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("-E") || eq < 3) {
                throw new IllegalArgumentException("expected -Ekey=value, got " + arg);
            }
            builder.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        if (builder.get("path.home") == null) {
            throw new IllegalArgumentException("-Epath.home=DIR is required");
        }
        return builder.build();
    }

    public static void main(String[] args) throws Exception {
        Settings settings = settings(args);
        Path home = Path.of(settings.get("path.home"));
        for (String dir : List.of("config", "plugins", "modules", "logs")) {
            Files.createDirectories(home.resolve(dir));
        }
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), home.resolve("config"), () -> "local");
        PrintStream ready = System.out; // LogConfigurator sends System.out to the log from here on
        LogConfigurator.setNodeName("local");
        LogConfigurator.configure(environment);
        LocalNode node = new LocalNode(environment);
        boolean temporary = Boolean.getBoolean("lambdalens.home.temporary");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(node, temporary ? home : null), "lambdalens-stop"));
        node.start();
        TransportAddress http = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress();
        ready.println("{\"http\": \"" + http.getAddress() + ":" + http.getPort() + "\", \"pid\": "
            + ProcessHandle.current().pid() + "}");
        ready.flush();
        while (System.in.read() != -1) {
            // the parent keeps standard input open while it wants the node
        }
        System.exit(0);
    }

    static void stop(Node node, Path temporaryHome) {
        try {
            node.close();
            node.awaitClose(20, TimeUnit.SECONDS);
            if (temporaryHome != null) {
                delete(temporaryHome);
            }
        } catch (IOException | InterruptedException e) {
            e.printStackTrace();
        }
    }

    static void delete(Path tree) throws IOException {
        try (Stream<Path> paths = Files.walk(tree)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
