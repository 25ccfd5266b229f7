package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// reconcileServices applies the two Services of a managed Lookup and puts
// their addresses in status: consumers use the ClusterIP Service (any replica
// answers a /lookup), queue daemons the headless one, which resolves to every
// replica so that each daemon registers with all of them.
func (r *LookupReconciler) reconcileServices(ctx context.Context, l *v1alpha1.Lookup) error {
	consumers := lookupdService(l, lookupdName(l)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(lookupSelector(l)).
			WithPorts(lookupdServicePorts()...))
	if err := r.apply(ctx, l, consumers, &corev1.Service{}); err != nil {
		return err
	}
	// Not-ready replicas are published so that daemons register with a
	// replica while it starts; its readiness probe waits long enough for
	// them to have done so before consumers are sent to it.
	daemons := lookupdService(l, headlessName(l)).
		WithSpec(corev1ac.ServiceSpec().
			WithClusterIP(corev1.ClusterIPNone).
			WithPublishNotReadyAddresses(true).
			WithSelector(lookupSelector(l)).
			WithPorts(lookupdServicePorts()...))
	if err := r.apply(ctx, l, daemons, &corev1.Service{}); err != nil {
		return err
	}
	l.Status.ConsumerAddresses = serviceAddresses(lookupdName(l), l.Namespace)
	l.Status.DaemonAddresses = serviceAddresses(headlessName(l), l.Namespace)
	return nil
}

func lookupdService(l *v1alpha1.Lookup, name string) *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(name, l.Namespace).
		WithLabels(lookupLabels(l)).
		WithOwnerReferences(ownerRef(l))
}

func lookupdServicePorts() []*corev1ac.ServicePortApplyConfiguration {
	return []*corev1ac.ServicePortApplyConfiguration{
		corev1ac.ServicePort().WithName("http").WithProtocol(corev1.ProtocolTCP).
			WithPort(LookupdHTTPPort).WithTargetPort(intstr.FromString("http")),
		corev1ac.ServicePort().WithName("tcp").WithProtocol(corev1.ProtocolTCP).
			WithPort(LookupdTCPPort).WithTargetPort(intstr.FromString("tcp")),
	}
}

func serviceAddresses(service, namespace string) *v1alpha1.LookupAddresses {
	host := fmt.Sprintf("%s.%s.svc", service, namespace)
	return &v1alpha1.LookupAddresses{
		TCPAddresses:  []string{fmt.Sprintf("%s:%d", host, LookupdTCPPort)},
		HTTPAddresses: []string{fmt.Sprintf("%s:%d", host, LookupdHTTPPort)},
	}
}
