package io.infraveil.controlplane.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.proto.v1.CatalogEndpoint;
import io.infraveil.proto.v1.CatalogService;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DeploymentOnHost;
import io.infraveil.proto.v1.ServicePortAssignment;
import io.infraveil.proto.v1.ServiceStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The service catalog names where each instance answers: host:port per port and index. */
class OperationsViewsCatalogTest {

  @Test
  void catalogShowsHostAndPortOfEveryInstance() {
    ServiceStatus onA = ServiceStatus.newBuilder().setName("api")
        .addPorts(ServicePortAssignment.newBuilder().setName("http").setPort(41001))
        .addPorts(ServicePortAssignment.newBuilder().setName("http").setClusterIndex(1)
            .setPort(41002))
        .build();
    ServiceStatus onB = ServiceStatus.newBuilder().setName("api")
        .addPorts(ServicePortAssignment.newBuilder().setName("http").setPort(41001))
        .build();
    Deployment web = Deployment.newBuilder().setName("web")
        .addOnHosts(DeploymentOnHost.newBuilder().setHostName("a").addServices(onA))
        .addOnHosts(DeploymentOnHost.newBuilder().setHostName("b").addServices(onB))
        .build();

    List<CatalogService> catalog = OperationsViews.catalog(List.of(web));

    assertEquals(1, catalog.size());
    assertEquals(List.of(
            CatalogEndpoint.newBuilder().setName("http").setAddress("a:41001").build(),
            CatalogEndpoint.newBuilder().setName("http").setClusterIndex(1)
                .setAddress("a:41002").build()),
        catalog.get(0).getInstances(0).getEndpointsList());
    assertEquals(List.of(CatalogEndpoint.newBuilder().setName("http").setAddress("b:41001")
        .build()), catalog.get(0).getInstances(1).getEndpointsList());
  }
}
